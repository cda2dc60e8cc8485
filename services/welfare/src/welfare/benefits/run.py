"""The monthly run (contract v2 §8): every recurring benefit due in a month that does not exist yet, each with
`benefit-due`, however many runs, concurrent or repeated.

Set-based, in chunks: a chunk's benefits (`CHUNK` cases or posts, by id) are computed and inserted by one
`INSERT … SELECT` (`RUN_SQL`) over the cases, the ranger posts and the household read model, and their `benefit-due`
events are staged with one COPY into the outbox (the kit's `copy_events`), in a transaction of the chunk's own: the
relay publishes a chunk's events, and finance pays them, while the next chunks are computed. Python decides only
what SQL cannot say in a few lines: for the cases with income assessments after the opening one, the month whose
amount they pay (`case_timeline`: gradual exit and re-activation, the pure rules of `welfare.cases.rules`). The
amount itself — base = max(0, standard × n − round(annual_income / 12)), a member's supplement round(share ×
standard) for the largest category that applies on the first day of the paying month — is
`welfare.cases.rules.monthly_amount` written in SQL; tests/test_run_sql.py checks both agree at every boundary (ages
18 and 60 on the first day, grades 2 and 3, shares tied, members born after the first day, a zero base).
"""

import datetime as dt
import json
import uuid
from collections import defaultdict
from decimal import Decimal

import asyncpg
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.clock import today
from fupin_kit.db import Database, session_driver
from fupin_kit.errors import Unprocessable
from welfare.benefits.models import Run
from welfare.cases.rules import Assessment, Member, PolicyOf, timeline_for
from welfare.events import published
from welfare.households.service import REGISTERED_POOR
from welfare.months import first_day, last_day, month_from_index, month_of
from welfare.policies.service import policy_table

ZERO = Decimal("0.00")
RECURRING = ("minimum_living", "eco_ranger")
RUN_TIMEOUT_MS = 600_000
CHUNK = 5_000  # cases per transaction: the first benefits are paid while the run goes on

# The 低保 cases open on at least one day of the month ($1 its first day, $2 its last), of a household registered
# poor here ($3), without a benefit for the month yet ($4). `closes_from` set: a gradual exit decides (the timeline).
_OPEN_CASE = """c.status <> 'stopped' AND c.opened_on <= $2
      AND (c.closes_from IS NOT NULL OR c.closed_on IS NULL OR c.closed_on >= $1)
      AND h.status = ANY($3::text[])
      AND NOT EXISTS (SELECT 1 FROM benefits b WHERE b.case_id = c.case_id AND b.month = $4)"""

# The open cases with assessments after the opening one (their paying month comes from the timeline). The cases
# with two or more assessments come from one pass over the assessments' case_id index, not from a probe of it for
# every open case: 0.10 s against 0.45 s of PostgreSQL CPU for 100,000 open cases.
_REASSESSED_SQL = f"""
    SELECT c.case_id, c.household_id, c.opened_on
    FROM (SELECT case_id FROM case_assessments GROUP BY case_id HAVING count(*) > 1) r
    JOIN cases c ON c.case_id = r.case_id JOIN households h ON h.household_id = c.household_id
    WHERE {_OPEN_CASE}"""

RUN_SQL = f"""
WITH policy AS (  -- the policies of the paying months' years
    SELECT * FROM unnest($5::int[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[])
        AS p(year, standard, elderly, minor, severe)
), paying AS (  -- reassessed cases: the first day of the month whose amount they pay (NULL: nothing is due)
    SELECT * FROM unnest($10::uuid[], $11::date[]) AS t(case_id, day)
), open_cases AS (  -- of this chunk ($15: its case and post ids)
    SELECT c.case_id, c.household_id, c.county_code, c.village_code, coalesce(t.day, $1::date) AS day,
           t.case_id IS NOT NULL AS reassessed
    FROM cases c JOIN households h ON h.household_id = c.household_id
    LEFT JOIN paying t ON t.case_id = c.case_id
    WHERE c.case_id = ANY($15::uuid[]) AND {_OPEN_CASE}
      AND (t.case_id IS NULL OR t.day IS NOT NULL)
), numbered AS (  -- every assessment of those cases, in date order (the first is the opening one)
    SELECT o.*, a.assessed_on, a.annual_income, a.disabled,
           row_number() OVER (PARTITION BY a.case_id ORDER BY a.assessed_on, a.id) AS position,
           count(*) OVER (PARTITION BY a.case_id) AS assessments
    FROM open_cases o JOIN case_assessments a ON a.case_id = o.case_id
), in_effect AS (  -- the latest assessment dated before the paying month (the opening one counts from opening)
    SELECT DISTINCT ON (n.case_id) n.case_id, n.household_id, n.county_code, n.village_code, n.day,
           n.annual_income, n.disabled
    FROM numbered n
    -- a case reassessed since the timeline was read waits for the next run
    WHERE (n.reassessed OR n.assessments = 1) AND (n.position = 1 OR n.assessed_on < n.day)
    ORDER BY n.case_id, n.position DESC
), terms AS (  -- with the policy of the paying month's year; `day` is a first of the month, so "60 or over on
               -- that day" is "born by the same day 60 years earlier" (29 February included), "under 18" likewise
    SELECT e.*, p.standard, p.severe, p.elderly, p.minor,
           (e.day - interval '60 years')::date AS elderly_born_by, (e.day - interval '18 years')::date AS adult_born_by
    FROM in_effect e JOIN policy p ON p.year = extract(year FROM e.day)::int
), computed AS (  -- per case, its members born by that day (a lateral count: linear whatever the estimates)
    SELECT t.case_id, t.household_id, t.county_code, t.village_code, k.n, t.standard,
           round(GREATEST(0, t.standard * k.n - round(t.annual_income / 12, 2)), 2) AS base,
           round(t.severe * t.standard, 2) * k.n_severe AS a_severe, k.n_severe,
           round(t.elderly * t.standard, 2) * k.n_elderly AS a_elderly, k.n_elderly,
           round(t.minor * t.standard, 2) * k.n_minor AS a_minor, k.n_minor
    FROM terms t CROSS JOIN LATERAL (
        -- the largest share that applies to each member (ties: severe_disability, elderly, minor); none above zero
        SELECT count(*) AS n,
               count(*) FILTER (WHERE best > 0 AND severe = best) AS n_severe,
               count(*) FILTER (WHERE best > 0 AND severe IS DISTINCT FROM best AND elderly = best) AS n_elderly,
               count(*) FILTER (WHERE best > 0 AND severe IS DISTINCT FROM best AND elderly IS DISTINCT FROM best
                                AND minor = best) AS n_minor
        FROM (SELECT s.*, GREATEST(s.severe, s.elderly, s.minor) AS best
              FROM (SELECT CASE WHEN (t.disabled ->> m.member_id) IN ('1', '2') THEN t.severe END AS severe,
                           CASE WHEN m.birth_date <= t.elderly_born_by THEN t.elderly END AS elderly,
                           CASE WHEN m.birth_date > t.adult_born_by THEN t.minor END AS minor
                    FROM members m WHERE m.household_id = t.household_id AND m.birth_date <= t.day) s) shares
    ) k
    WHERE k.n > 0
), minimum_living AS (
    SELECT 'minimum_living' AS kind, x.case_id, x.household_id, x.county_code, x.village_code,
           x.base + x.a_severe + x.a_elderly + x.a_minor AS amount,
           jsonb_build_object(
               'base', x.base::text, 'members', x.n, 'standard', round(x.standard, 2)::text,
               'supplements', to_jsonb(array_remove(ARRAY[
                   CASE WHEN x.n_severe > 0 THEN jsonb_build_object(
                       'category', 'severe_disability', 'count', x.n_severe, 'amount', x.a_severe::text) END,
                   CASE WHEN x.n_elderly > 0 THEN jsonb_build_object(
                       'category', 'elderly', 'count', x.n_elderly, 'amount', x.a_elderly::text) END,
                   CASE WHEN x.n_minor > 0 THEN jsonb_build_object(
                       'category', 'minor', 'count', x.n_minor, 'amount', x.a_minor::text) END], NULL))
           ) AS breakdown
    FROM computed x
), eco_ranger AS (  -- month m of the allowance A: round(A × m / 12) − round(A × (m − 1) / 12)
    SELECT 'eco_ranger' AS kind, p.post_id AS case_id, p.household_id, p.county_code, p.village_code,
           round(p.yearly_allowance * $12::int / 12, 2) - round(p.yearly_allowance * ($12::int - 1) / 12, 2) AS amount,
           jsonb_build_object('month_number', $12::int, 'yearly_allowance', round(p.yearly_allowance, 2)::text)
               AS breakdown
    FROM ranger_posts p JOIN households h ON h.household_id = p.household_id
    WHERE p.post_id = ANY($15::uuid[])
      AND p.status <> 'stopped' AND p.year = $13::int AND p.appointed_on <= $2
      AND (p.ended_on IS NULL OR p.ended_on >= $1) AND h.status = ANY($3::text[])
      AND NOT EXISTS (SELECT 1 FROM benefits b WHERE b.case_id = p.post_id AND b.month = $4)
)
INSERT INTO benefits (benefit_id, kind, case_id, household_id, county_code, village_code, month, amount, breakdown,
                      status, run_id, created_at)
SELECT gen_random_uuid(), d.kind, d.case_id, d.household_id, d.county_code, d.village_code, $4, d.amount,
       d.breakdown, 'due', $14::uuid, now()
FROM (SELECT * FROM minimum_living UNION ALL SELECT * FROM eco_ranger) d
WHERE d.amount > 0  -- a zero amount creates nothing
ORDER BY d.case_id
ON CONFLICT (case_id, month) WHERE month IS NOT NULL DO NOTHING
RETURNING benefit_id, kind, case_id, household_id, county_code, village_code, amount"""


async def _paying_days(raw: asyncpg.Connection, month: str, policy_of: PolicyOf) -> dict[uuid.UUID, dt.date | None]:
    """For the open cases with assessments after the opening one: the first day of the month whose amount `month`
    pays (itself when active, R during a gradual exit), None when it pays nothing (closed by its gradual exit)."""
    start, end = first_day(month), last_day(month)
    cases = await raw.fetch(_REASSESSED_SQL, start, end, list(REGISTERED_POOR), month)
    if not cases:
        return {}
    assessments: dict[uuid.UUID, list[Assessment]] = defaultdict(list)
    for r in await raw.fetch(
            """SELECT case_id, assessed_on, annual_income, disabled::text AS disabled FROM case_assessments
               WHERE case_id = ANY($1::uuid[]) ORDER BY case_id, assessed_on, id""", [r["case_id"] for r in cases]):
        assessments[r["case_id"]].append(Assessment(r["assessed_on"], r["annual_income"], json.loads(r["disabled"])))
    members: dict[str, list[Member]] = defaultdict(list)
    for r in await raw.fetch(
            """SELECT household_id, member_id, birth_date FROM members WHERE household_id = ANY($1::text[])
               ORDER BY household_id, position""", list({r["household_id"] for r in cases})):
        members[r["household_id"]].append(Member(r["member_id"], r["birth_date"]))
    days: dict[uuid.UUID, dt.date | None] = {}
    for r in cases:
        timeline = timeline_for(r["opened_on"], assessments[r["case_id"]], members[r["household_id"]], policy_of)
        paying = timeline.paying_month(month)
        days[r["case_id"]] = None if paying is None else first_day(month_from_index(paying))
    return days


async def _chunks(raw: asyncpg.Connection, month: str) -> list[list[uuid.UUID]]:
    """The run's chunks: the month's candidates (open cases without the month's benefit, the year's ranger posts),
    `CHUNK` ids each, in id order. A chunk's statement finds its cases by primary key, not by reading past the
    closed cases of past years."""
    start, end = first_day(month), last_day(month)
    ids = [r[0] for r in await raw.fetch(
        f"""SELECT c.case_id FROM cases c JOIN households h ON h.household_id = c.household_id WHERE {_OPEN_CASE}
            UNION ALL SELECT post_id FROM ranger_posts WHERE year = $5 AND status <> 'stopped' ORDER BY 1""",
        start, end, list(REGISTERED_POOR), month, start.year)]
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


async def run_month(session: AsyncSession, db: Database, *, month: str, created_by: str) -> Run:
    """Create every recurring benefit due in `month` that does not exist yet, each with `benefit-due`.

    In chunks of about `CHUNK` cases, each committed with its benefits' events in a transaction of its own (`db`), so
    the relay publishes and finance pays the first chunks while the run goes on; the run's record, with the totals,
    is written in `session`. A chunk's runs are serialised by an advisory lock, and the unique index on
    (case_id, month) with ON CONFLICT DO NOTHING is the database's last word: one benefit per case and month however
    many runs, concurrent or repeated (a run that stops half-way leaves whole chunks, and the next one adds the
    rest)."""
    if month > month_of(today()):
        raise Unprocessable("month_in_future", f"{month} is after the current month",
                            errors=[{"field": "month", "message": "after the current month"}])
    # a batch job, not a request: the session (perhaps an Idempotency-Key's transaction) waits for the chunks longer
    # than the service's idle-in-transaction limit on a busy machine
    await session.exec(text(f"SET LOCAL idle_in_transaction_session_timeout = {RUN_TIMEOUT_MS}"))  # type: ignore[call-overload]
    raw: asyncpg.Connection = await session_driver(session)
    existing = await raw.fetchval(
        "SELECT count(*) FROM benefits WHERE month = $1 AND kind = ANY($2::text[])", month, list(RECURRING))
    policy_of = await policy_table(session)
    start = first_day(month)
    paying = await _paying_days(raw, month, policy_of)
    years = sorted({start.year} | {day.year for day in paying.values() if day is not None})
    policies = [policy_of(year) for year in years]
    run = Run(month=month, created_minimum_living=0, created_eco_ranger=0, already_existing=int(existing),
              total_amount=ZERO, created_by=created_by, created_at=dt.datetime.now(dt.UTC))
    terms = (start, last_day(month), list(REGISTERED_POOR), month,
             years, [p.minimum_living_standard for p in policies], [p.supplements.elderly for p in policies],
             [p.supplements.minor for p in policies], [p.supplements.severe_disability for p in policies],
             list(paying), list(paying.values()), start.month, start.year, run.run_id)
    for ids in await _chunks(raw, month):
        async with db.session() as chunk:
            await chunk.exec(text(f"SET LOCAL statement_timeout = {RUN_TIMEOUT_MS}"))  # type: ignore[call-overload]
            conn: asyncpg.Connection = await session_driver(chunk)
            # the chunk's ids are bound anew each time: a plan for these values, not a generic one
            await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('welfare-run:' || $1))", month)
            rows = await conn.fetch(RUN_SQL, *terms, ids)
            await published.benefits_due(conn, rows, month=month)
            await chunk.commit()
        run.created_minimum_living += sum(1 for r in rows if r["kind"] == "minimum_living")
        run.created_eco_ranger += sum(1 for r in rows if r["kind"] == "eco_ranger")
        run.total_amount += sum((r["amount"] for r in rows), ZERO)
        del rows
    session.add(run)
    await session.flush()
    return run
