"""Funds received, integration with lineage, allocations into programme accounts, the ledger's own guards."""

import uuid

import asyncpg
import httpx
import pytest
from conftest import READER, WRITER, allocate, balance, new_county, receive, token, verify_ledger


async def test_receive_fund(client: httpx.AsyncClient) -> None:
    county = new_county()
    fund = await receive(client, county, "1000.00", source="lottery", purpose="industry")
    assert fund["balance"] == "1000.00" and fund["amount"] == "1000.00" and fund["source"] == "lottery"
    assert fund["lineage"] == [{"fund_id": fund["fund_id"], "amount": "1000.00"}]
    read = await client.get(f"/finance/funds/{fund['fund_id']}", headers=token(READER))
    assert read.status_code == 200 and read.json()["balance"] == "1000.00"
    await verify_ledger(client)


@pytest.mark.parametrize(("field", "value"), [
    ("jurisdiction_code", "12345"), ("jurisdiction_code", "6107231"), ("source", "bank"), ("amount", "0"),
    ("amount", "-5.00"), ("amount", "1.234"), ("year", 1999)])
async def test_fund_validation_names_the_field(client: httpx.AsyncClient, field: str, value: object) -> None:
    body = {"jurisdiction_code": new_county(), "year": 2020, "source": "central", "purpose": "p", "amount": "1.00",
            field: value}
    answer = await client.post("/finance/funds", headers=token(WRITER), json=body)
    assert answer.status_code == 422 and answer.json()["code"] == "validation_error"
    assert answer.json()["errors"][0]["field"] == field


async def test_allocation_moves_money_into_the_programme_account(client: httpx.AsyncClient) -> None:
    county = new_county()
    fund = await receive(client, county, "1000.00")
    answer = await client.post("/finance/allocations", headers=token(WRITER), json={
        "from_fund_id": fund["fund_id"], "program": "industry", "amount": "400.00", "note": "spring tranche"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["fund_balance"] == "600.00" and body["account_balance"] == "400.00"
    assert body["jurisdiction_code"] == county and body["recorded_by"] == "gov-portal"
    assert await balance(client, county, "industry") == "400.00"
    accounts = (await client.get("/finance/accounts", headers=token(READER),
                                 params={"jurisdiction_code": county})).json()
    assert len(accounts) == 11 and {a["program"] for a in accounts} >= {"education_grants", "village_teams",
                                                                        "minimum_living", "eco_rangers"}
    audit = (await client.get("/finance/ledger/entries", headers=token(READER),
                              params={"reference": body["allocation_id"]})).json()
    assert audit[0]["recorded_by"] == "gov-portal" and audit[0]["note"] == "spring tranche"
    assert {(line["debit"], line["credit"]) for line in audit[0]["lines"]} == {("400.00", "0.00"), ("0.00", "400.00")}
    await verify_ledger(client)


async def test_allocation_errors(client: httpx.AsyncClient) -> None:
    fund = await receive(client, new_county(), "100.00")
    short = await allocate(client, fund["fund_id"], "industry", "100.01")
    assert short.status_code == 422 and short.json()["code"] == "insufficient_funds"
    missing = await allocate(client, str(uuid.uuid4()), "industry", "1.00")
    assert missing.status_code == 404 and missing.json()["code"] == "fund_not_found"
    unknown_program = await allocate(client, fund["fund_id"], "casino", "1.00")
    assert unknown_program.status_code == 422 and unknown_program.json()["errors"][0]["field"] == "program"
    bad_query = await client.get("/finance/accounts", headers=token(READER), params={"program": "casino"})
    assert bad_query.status_code == 422 and bad_query.json()["errors"][0]["field"] == "program"
    bad_code = await client.get("/finance/accounts", headers=token(READER), params={"jurisdiction_code": "1"})
    assert bad_code.status_code == 422 and bad_code.json()["errors"][0]["field"] == "jurisdiction_code"
    reader = await client.post("/finance/allocations", headers=token(READER),
                               json={"from_fund_id": fund["fund_id"], "program": "industry", "amount": "1.00"})
    assert reader.status_code == 403
    assert (await client.get(f"/finance/funds/{fund['fund_id']}", headers=token(READER))).json()["balance"] == "100.00"


async def test_integration_keeps_lineage_to_the_source_funds(client: httpx.AsyncClient) -> None:
    county = new_county()
    central = await receive(client, county, "300.00", source="central", purpose="roads")
    provincial = await receive(client, county, "200.00", source="provincial", purpose="water")
    answer = await client.post("/finance/integrations", headers=token(WRITER), json={
        "jurisdiction_code": county, "year": 2020,
        "items": [{"fund_id": central["fund_id"], "amount": "250.00"},
                  {"fund_id": provincial["fund_id"], "amount": "200.00"}]})
    assert answer.status_code == 201, answer.text
    integrated = answer.json()
    assert integrated["source"] == "integrated" and integrated["balance"] == "450.00"
    assert integrated["lineage"] == [{"fund_id": central["fund_id"], "amount": "250.00"},
                                     {"fund_id": provincial["fund_id"], "amount": "200.00"}]
    central_after = await client.get(f"/finance/funds/{central['fund_id']}", headers=token(READER))
    assert central_after.json()["balance"] == "50.00"
    allocated = await allocate(client, integrated["fund_id"], "infrastructure", "300.00")
    assert allocated.status_code == 201 and allocated.json()["fund_balance"] == "150.00"
    await verify_ledger(client)


async def test_integration_errors(client: httpx.AsyncClient) -> None:
    county = new_county()
    fund = await receive(client, county, "100.00")
    body = {"jurisdiction_code": county, "year": 2020, "items": [{"fund_id": fund["fund_id"], "amount": "100.01"}]}
    short = await client.post("/finance/integrations", headers=token(WRITER), json=body)
    assert short.status_code == 422 and short.json()["code"] == "insufficient_funds"
    missing = await client.post("/finance/integrations", headers=token(WRITER), json={
        **body, "items": [{"fund_id": str(uuid.uuid4()), "amount": "1.00"}]})
    assert missing.status_code == 404 and missing.json()["code"] == "fund_not_found"
    foreign = await client.post("/finance/integrations", headers=token(WRITER), json={
        **body, "jurisdiction_code": new_county(), "items": [{"fund_id": fund["fund_id"], "amount": "1.00"}]})
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "items.0.fund_id"
    twice = await client.post("/finance/integrations", headers=token(WRITER), json={
        **body, "items": [{"fund_id": fund["fund_id"], "amount": "1.00"}] * 2})
    assert twice.status_code == 422 and twice.json()["errors"][0]["field"] == "items"
    empty = await client.post("/finance/integrations", headers=token(WRITER), json={**body, "items": []})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "items"
    assert (await client.get(f"/finance/funds/{fund['fund_id']}", headers=token(READER))).json()["balance"] == "100.00"


async def test_nul_characters_are_a_422_naming_the_field(client: httpx.AsyncClient) -> None:
    """Fuzzing found 500s: PostgreSQL text cannot hold NUL, and the driver's error escaped. Now a validation_error."""
    county = new_county()
    fund = await receive(client, county, "10.00")
    cases = [
        ("/finance/funds", {"jurisdiction_code": county, "year": 2020, "source": "central", "purpose": "a\x00b",
                            "amount": "1.00"}, "purpose"),
        ("/finance/funds", {"jurisdiction_code": county, "year": 2020, "source": "central", "purpose": "p",
                            "amount": "1.00", "note": "\x00"}, "note"),
        ("/finance/integrations", {"jurisdiction_code": county, "year": 2020, "purpose": "\x00",
                                   "items": [{"fund_id": fund["fund_id"], "amount": "1.00"}]}, "purpose"),
        ("/finance/allocations", {"from_fund_id": fund["fund_id"], "program": "industry", "amount": "1.00",
                                  "note": "x\x00"}, "note"),
    ]
    for path, body, field in cases:
        answer = await client.post(path, headers=token(WRITER), json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["code"] == "validation_error" and answer.json()["errors"][0]["field"] == field
    put = await client.put(f"/finance/jurisdictions/{county}/years/2020", headers=token(WRITER), json={
        "general_budget_revenue": "1.00", "special_fund_budget": "1.00", "note": "\x00"})
    assert put.status_code == 422 and put.json()["errors"][0]["field"] == "note"
    for path in ("/finance/payments", "/finance/ledger/entries"):
        answer = await client.get(path, headers=token(READER), params={"reference": "a\x00b"})
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["errors"][0]["field"] == "reference"
    assert (await client.get(f"/finance/funds/{fund['fund_id']}", headers=token(READER))).json()["balance"] == "10.00"


async def test_amounts_past_the_largest_balance_are_refused_not_overflowed(client: httpx.AsyncClient) -> None:
    """Fuzzing found two 500s (NUMERIC(14, 2) overflow): integrating funds whose total passes 999,999,999,999.99, and
    allocating into a programme account that would then hold more than that. Both are 422 now and change nothing."""
    county, most = new_county(), "999999999999.99"
    first, second = await receive(client, county, most), await receive(client, county, most)
    integration = await client.post("/finance/integrations", headers=token(WRITER), json={
        "jurisdiction_code": county, "year": 2020,
        "items": [{"fund_id": first["fund_id"], "amount": most}, {"fund_id": second["fund_id"], "amount": "0.01"}]})
    assert integration.status_code == 422, integration.text
    assert integration.headers["content-type"] == "application/problem+json"
    assert integration.json()["code"] == "validation_error" and integration.json()["errors"][0]["field"] == "items"
    assert (await allocate(client, first["fund_id"], "industry", most)).status_code == 201
    over = await allocate(client, second["fund_id"], "industry", "0.01")
    assert over.status_code == 422, over.text
    assert over.json()["code"] == "validation_error" and over.json()["errors"][0]["field"] == "amount"
    assert (await client.get(f"/finance/funds/{second['fund_id']}", headers=token(READER))).json()["balance"] == most
    assert await balance(client, county, "industry") == most
    await verify_ledger(client)


async def test_idempotency_key_replays_an_allocation(client: httpx.AsyncClient) -> None:
    county = new_county()
    fund = await receive(client, county, "100.00")
    body = {"from_fund_id": fund["fund_id"], "program": "industry", "amount": "10.00"}
    headers = {**token(WRITER), "Idempotency-Key": uuid.uuid4().hex}
    first = await client.post("/finance/allocations", headers=headers, json=body)
    again = await client.post("/finance/allocations", headers=headers, json=body)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert await balance(client, county, "industry") == "10.00"
    other = await client.post("/finance/allocations", headers=headers, json={**body, "amount": "11.00"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def test_database_refuses_an_unbalanced_entry(database_url: str) -> None:
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        account_ids = [r["id"] for r in await conn.fetch("SELECT id FROM accounts ORDER BY id LIMIT 2")]
        with pytest.raises(asyncpg.CheckViolationError, match="does not balance"):
            async with conn.transaction():
                entry = await conn.fetchval("INSERT INTO journal_entries (kind, recorded_by) VALUES ('test', 't') "
                                            "RETURNING id")
                await conn.execute("INSERT INTO journal_lines (entry_id, account_id, debit) VALUES ($1, $2, 5)",
                                   entry, account_ids[0])
                await conn.execute("INSERT INTO journal_lines (entry_id, account_id, credit) VALUES ($1, $2, 4.99)",
                                   entry, account_ids[1])
        with pytest.raises(asyncpg.CheckViolationError, match="no lines"):
            async with conn.transaction():
                await conn.execute("INSERT INTO journal_entries (kind, recorded_by) VALUES ('test', 't')")
    finally:
        await conn.close()


async def test_the_ledger_audit_counts_rows_whose_reference_is_missing(database_url: str) -> None:
    """The references of journal lines, lots and payments are declared but not enforced (migration 0009): the
    ledger's verification counts the rows that name a missing account, entry or fund."""
    from finance.ledger.verification import ORPHANS

    conn = await asyncpg.connect(_dsn(database_url))
    try:
        tx = conn.transaction()
        await tx.start()
        try:
            before = await conn.fetchval(ORPHANS.text)
            missing = await conn.fetchval("SELECT coalesce(max(id), 0) + 1000 FROM accounts")
            entry = await conn.fetchval("INSERT INTO journal_entries (kind, recorded_by) VALUES ('test', 't') "
                                        "RETURNING id")
            await conn.execute("INSERT INTO journal_lines (entry_id, account_id, debit, credit) "
                               "VALUES ($1, $2, 5, 0), ($1, $2 + 1, 0, 5)", entry, missing)
            await conn.execute("INSERT INTO lots (account_id, entry_id, source_fund_id, amount, remaining) "
                               "VALUES ($1, $2 + 1000, $3, 5, 5)", missing, entry, uuid.uuid4())
            assert await conn.fetchval(ORPHANS.text) == before + 5  # two lines, a lot's three references
        finally:
            await tx.rollback()
    finally:
        await conn.close()


async def test_database_refuses_overdrafts_and_journal_edits(database_url: str) -> None:
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE accounts SET balance = balance - 1000000000 WHERE kind = 'fund'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("UPDATE journal_lines SET debit = debit + 1 WHERE debit > 0")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("DELETE FROM journal_entries")
    finally:
        await conn.close()
