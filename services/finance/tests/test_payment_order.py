"""Finance never freezes (issue 11 item 7, README "Payment order"): a waiting payment that does not fit is overtaken
by smaller ones, but only until the account has paid out its own amount past it; then it is paid first."""

import uuid
from typing import Any

import httpx
from conftest import READER, allocate, balance, deliver, new_county, receive, token, verify_ledger, village_of

from fupin_kit.db import Database
from fupin_kit.events.envelope import cloud_event


def grant_event(county: str, amount: str) -> dict[str, Any]:
    household = str(uuid.uuid4())
    return cloud_event(source="test", topic="grant-awarded", subject=household, data={
        "grant_id": str(uuid.uuid4()), "person_ref": uuid.uuid4().hex, "household_id": household,
        "county_code": county, "village_code": village_of(county), "kind": "senior", "amount": amount,
        "academic_year": "2020-2021"})


async def status(http: httpx.AsyncClient, event: dict[str, Any]) -> str:
    [payment] = (await http.get("/finance/payments", headers=token(READER),
                                params={"reference": event["data"]["grant_id"]})).json()
    return payment["status"]  # type: ignore[no-any-return]


async def test_small_payments_overtake_a_large_one_until_it_has_waited_its_own_amount(
        http: httpx.AsyncClient, db: Database) -> None:
    county = new_county()
    fund = await receive(http, county, "2000.00")
    assert (await allocate(http, fund["fund_id"], "education_grants", "100.00")).status_code == 201

    big = grant_event(county, "500.00")
    await deliver(db, "grant-awarded", big)
    assert await status(http, big) == "pending_funds"
    smalls = [grant_event(county, amount) for amount in ("60.00", "30.00")]
    for event in smalls:  # the account does not freeze behind the 500
        await deliver(db, "grant-awarded", event)
        assert await status(http, event) == "paid"
    assert await balance(http, county, "education_grants") == "10.00"

    # money that still does not cover the 500 goes to smaller payments that come after it ...
    assert (await allocate(http, fund["fund_id"], "education_grants", "450.00")).status_code == 201
    assert await status(http, big) == "pending_funds"
    overtaking = [grant_event(county, amount) for amount in ("100.00", "100.00", "100.00", "100.00", "50.00")]
    for event in overtaking:
        await deliver(db, "grant-awarded", event)
        assert await status(http, event) == "paid"
    # ... until 90 + 450 = 540 >= 500 has been paid past it: now it is a barrier, and a payment that fits waits
    assert await balance(http, county, "education_grants") == "10.00"
    behind = grant_event(county, "5.00")
    await deliver(db, "grant-awarded", behind)
    assert await status(http, behind) == "pending_funds"

    # the next money pays the large payment first, then the one behind it
    assert (await allocate(http, fund["fund_id"], "education_grants", "489.99")).status_code == 201  # 499.99
    assert await status(http, big) == "pending_funds" and await status(http, behind) == "pending_funds"
    assert (await allocate(http, fund["fund_id"], "education_grants", "5.01")).status_code == 201  # 505.00
    assert await status(http, big) == "paid" and await status(http, behind) == "paid"
    assert await balance(http, county, "education_grants") == "0.00"
    await verify_ledger(http)


async def test_a_cancelled_barrier_releases_the_payments_behind_it(http: httpx.AsyncClient, db: Database) -> None:
    county = new_county()
    fund = await receive(http, county, "100.00")
    assert (await allocate(http, fund["fund_id"], "minimum_living", "100.00")).status_code == 201
    household = str(uuid.uuid4())

    def benefit(amount: str) -> dict[str, Any]:
        return cloud_event(source="welfare", topic="benefit-due", subject=household, data={
            "benefit_id": str(uuid.uuid4()), "kind": "minimum_living", "household_id": household,
            "county_code": county, "village_code": village_of(county), "amount": amount})

    async def state(event: dict[str, Any]) -> str:
        [payment] = (await http.get("/finance/payments", headers=token(READER),
                                    params={"reference": event["data"]["benefit_id"]})).json()
        return payment["status"]  # type: ignore[no-any-return]

    big, first, second = benefit("150.00"), benefit("100.00"), benefit("50.00")
    for event in (big, first, second):
        await deliver(db, "benefit-due", event)
    # 150 waits; 100 overtakes it (paid_out 0 < 150); 50 does not fit (balance 0) and waits too
    assert [await state(e) for e in (big, first, second)] == ["pending_funds", "paid", "pending_funds"]
    fund2 = await receive(http, county, "60.00")
    assert (await allocate(http, fund2["fund_id"], "minimum_living", "60.00")).status_code == 201
    # 60 does not cover 150; the 50 fits and only 100 < 150 was paid past the 150: it overtakes (paid_out 150)
    assert [await state(e) for e in (big, second)] == ["pending_funds", "paid"]

    # now the 150 is a barrier: a 10 that fits the 10 left waits behind it
    third = benefit("10.00")
    await deliver(db, "benefit-due", third)
    assert await state(third) == "pending_funds"
    # the barrier is cancelled: the 10 behind it is paid at once
    await deliver(db, "benefit-cancelled", cloud_event(source="welfare", topic="benefit-cancelled", subject=household,
                                                       data={"benefit_id": big["data"]["benefit_id"],
                                                             "household_id": household,
                                                             "reason_code": "household_removed"}))
    assert [await state(e) for e in (big, third)] == ["reversed", "paid"]
    assert await balance(http, county, "minimum_living") == "0.00"
    await verify_ledger(http)
