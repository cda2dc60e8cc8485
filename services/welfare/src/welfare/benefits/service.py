"""Benefits: the monthly run (one benefit per case and month, however many runs), reads, one-off benefits."""

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_events.payloads import BenefitDue
from fupin_kit.errors import NotFound, Unprocessable
from fupin_kit.events.outbox import copy_events
from welfare.benefits.models import Benefit, Run
from welfare.cases.rules import Assessment, Member, due_amount
from welfare.clock import today
from welfare.config import COMPONENT
from welfare.events.published import benefit_due
from welfare.households.service import REGISTERED_POOR
from welfare.months import first_day, last_day, month_of, parse_month
from welfare.policies.service import policy_table
from welfare.rangers.rules import instalment

ZERO = Decimal("0.00")
RECURRING = ("minimum_living", "eco_ranger")


def benefit_not_found() -> NotFound:
    return NotFound("benefit_not_found", "no such benefit")


async def get_benefit(session: AsyncSession, benefit_id: str) -> Benefit:
    try:
        key = uuid.UUID(benefit_id)
    except ValueError:
        raise benefit_not_found() from None
    benefit = await session.get(Benefit, key)
    if benefit is None:
        raise benefit_not_found()
    return benefit


async def list_benefits(session: AsyncSession, *, case_id: str | None, household_id: str | None) -> list[Benefit]:
    query = select(Benefit)
    if case_id is not None:
        try:
            query = query.where(Benefit.case_id == uuid.UUID(case_id))
        except ValueError:
            return []
    if household_id is not None:
        query = query.where(Benefit.household_id == household_id)
    query = query.order_by(col(Benefit.month).nulls_last(), col(Benefit.created_at), col(Benefit.benefit_id))
    return list((await session.exec(query)).all())


async def create_one_off(session: AsyncSession, benefit: Benefit) -> Benefit:
    """A one-off benefit (temporary assistance, relocation) and its `benefit-due`, in the caller's transaction."""
    session.add(benefit)
    await session.flush()
    await benefit_due(session, benefit)
    return benefit


@dataclass(frozen=True)
class Due:
    kind: str
    case_id: uuid.UUID
    household_id: str
    county_code: str
    village_code: str
    amount: Decimal
    breakdown: dict[str, Any]


async def _raw(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside its transaction (COPY and arrays for bulk work)."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    return driver


async def _minimum_living_due(raw: asyncpg.Connection, month: str, policy_of: Any) -> list[Due]:
    start, end = first_day(month), last_day(month)
    cases = await raw.fetch(
        """SELECT c.case_id, c.household_id, c.county_code, c.village_code, c.opened_on, c.closed_on, c.closes_from
           FROM cases c JOIN households h ON h.household_id = c.household_id
           WHERE c.status <> 'stopped' AND c.opened_on <= $1
             AND (c.closes_from IS NOT NULL OR c.closed_on IS NULL OR c.closed_on >= $2)
             AND h.status = ANY($3::text[])
             AND NOT EXISTS (SELECT 1 FROM benefits b WHERE b.case_id = c.case_id AND b.month = $4)""",
        end, start, list(REGISTERED_POOR), month)
    if not cases:
        return []
    case_ids = [r["case_id"] for r in cases]
    assessments: dict[uuid.UUID, list[Assessment]] = defaultdict(list)
    for r in await raw.fetch(
            """SELECT case_id, assessed_on, annual_income, disabled::text AS disabled FROM case_assessments
               WHERE case_id = ANY($1::uuid[]) ORDER BY case_id, assessed_on, id""", case_ids):
        assessments[r["case_id"]].append(Assessment(r["assessed_on"], r["annual_income"], json.loads(r["disabled"])))
    members: dict[str, list[Member]] = defaultdict(list)
    for r in await raw.fetch(
            """SELECT household_id, member_id, birth_date FROM members WHERE household_id = ANY($1::text[])
               ORDER BY household_id, position""", list({r["household_id"] for r in cases})):
        members[r["household_id"]].append(Member(r["member_id"], r["birth_date"]))
    due = []
    for r in cases:
        closed_on = None if r["closes_from"] is not None else r["closed_on"]
        amount = due_amount(month, opened_on=r["opened_on"], closed_on=closed_on, assessments=assessments[r["case_id"]],
                            members=members[r["household_id"]], policy_of=policy_of)
        if amount is not None:
            breakdown = {**amount.breakdown(), "members": amount.members, "standard": f"{amount.standard:.2f}"}
            due.append(Due("minimum_living", r["case_id"], r["household_id"], r["county_code"], r["village_code"],
                           amount.amount, breakdown))
    return due


async def _ranger_due(raw: asyncpg.Connection, month: str) -> list[Due]:
    year, number = parse_month(month)
    posts = await raw.fetch(
        """SELECT p.post_id, p.household_id, p.county_code, p.village_code, p.yearly_allowance
           FROM ranger_posts p JOIN households h ON h.household_id = p.household_id
           WHERE p.status <> 'stopped' AND p.year = $1 AND p.appointed_on <= $2
             AND (p.ended_on IS NULL OR p.ended_on >= $3) AND h.status = ANY($4::text[])
             AND NOT EXISTS (SELECT 1 FROM benefits b WHERE b.case_id = p.post_id AND b.month = $5)""",
        year, last_day(month), first_day(month), list(REGISTERED_POOR), month)
    due = []
    for r in posts:
        amount = instalment(r["yearly_allowance"], number)
        if amount > 0:
            due.append(Due("eco_ranger", r["post_id"], r["household_id"], r["county_code"], r["village_code"], amount,
                           {"month_number": number, "yearly_allowance": f"{r['yearly_allowance']:.2f}"}))
    return due


async def run_month(session: AsyncSession, *, month: str, created_by: str) -> Run:
    """Create every recurring benefit due in `month` that does not exist yet, each with `benefit-due`.

    Runs of one month are serialised by an advisory lock, and the unique index on (case_id, month) with ON CONFLICT
    DO NOTHING is the database's last word: one benefit per case and month however many runs."""
    if month > month_of(today()):
        raise Unprocessable("month_in_future", f"{month} is after the current month",
                            errors=[{"field": "month", "message": "after the current month"}])
    raw = await _raw(session)
    await raw.execute("SELECT pg_advisory_xact_lock(hashtext('welfare-run:' || $1))", month)
    existing = await raw.fetchval(
        "SELECT count(*) FROM benefits WHERE month = $1 AND kind = ANY($2::text[])", month, list(RECURRING))
    policy_of = await policy_table(session)
    due = await _minimum_living_due(raw, month, policy_of) + await _ranger_due(raw, month)
    run = Run(month=month, created_minimum_living=0, created_eco_ranger=0, already_existing=int(existing),
              total_amount=ZERO, created_by=created_by, created_at=dt.datetime.now(dt.UTC))
    session.add(run)
    await session.flush()
    created = await _insert(raw, due, month=month, run_id=run.run_id)
    run.created_minimum_living = sum(1 for kind, _ in created if kind == "minimum_living")
    run.created_eco_ranger = sum(1 for kind, _ in created if kind == "eco_ranger")
    run.total_amount = sum((amount for _, amount in created), ZERO)
    session.add(run)
    await session.flush()
    return run


async def _insert(raw: asyncpg.Connection, due: list[Due], *, month: str,
                  run_id: uuid.UUID) -> list[tuple[str, Decimal]]:
    if not due:
        return []
    await raw.execute("""CREATE TEMP TABLE IF NOT EXISTS run_benefits (
        benefit_id uuid, kind text, case_id uuid, household_id text, county_code text, village_code text,
        amount numeric(14,2), breakdown jsonb) ON COMMIT DELETE ROWS""")
    await raw.execute("TRUNCATE run_benefits")
    records = [(uuid.uuid4(), d.kind, d.case_id, d.household_id, d.county_code, d.village_code, d.amount,
                json.dumps(d.breakdown)) for d in due]
    await raw.copy_records_to_table("run_benefits", records=records)
    rows = await raw.fetch(
        """INSERT INTO benefits (benefit_id, kind, case_id, household_id, county_code, village_code, month, amount,
                                 breakdown, status, run_id, created_at)
           SELECT benefit_id, kind, case_id, household_id, county_code, village_code, $1, amount, breakdown, 'due',
                  $2, now() FROM run_benefits ORDER BY case_id
           ON CONFLICT (case_id, month) WHERE month IS NOT NULL DO NOTHING
           RETURNING benefit_id, kind, case_id, household_id, county_code, village_code, amount""", month, run_id)
    # built without the ORM (a SQLModel instance costs milliseconds; a run creates a city's benefits at once)
    await copy_events(raw, [("benefit-due", r["household_id"], BenefitDue.model_construct(
        benefit_id=str(r["benefit_id"]), kind=r["kind"], case_id=str(r["case_id"]),
        household_id=uuid.UUID(r["household_id"]), county_code=r["county_code"], village_code=r["village_code"],
        month=month, amount=r["amount"]).model_dump(mode="json")) for r in rows], source=COMPONENT)
    return [(r["kind"], r["amount"]) for r in rows]


async def get_run(session: AsyncSession, run_id: str) -> Run:
    not_found = NotFound("run_not_found", "no such run")
    try:
        key = uuid.UUID(run_id)
    except ValueError:
        raise not_found from None
    run = await session.get(Run, key)
    if run is None:
        raise not_found
    return run


