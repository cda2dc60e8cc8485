"""One-stop settlement at discharge and its reversal; both change the person's yearly totals under a row lock."""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import orjson
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit import telemetry
from fupin_kit.db import advisory_key
from fupin_kit.errors import Conflict, NotFound, Unprocessable
from fupin_kit.events.envelope import envelope
from fupin_kit.events.outbox import NOTIFY_CHANNEL
from medical.columns import MAX_TOTAL
from medical.config import COMPONENT
from medical.encounters import encounter_conflict, fingerprint
from medical.events import published
from medical.persons.models import REGISTERED_POOR
from medical.persons.service import person_ref_of
from medical.policies.models import YearPolicy
from medical.policies.service import policy_document, policy_from_row
from medical.settlements import accumulators
from medical.settlements.models import (
    RECORD_FIELDS,
    ReversalIn,
    Settlement,
    SettlementIn,
    SettlementRecord,
)
from medical.settlements.rules import (
    DEFAULT_POLICY,
    Accumulators,
    Breakdown,
    SettlementPolicy,
    over_admission_maximum,
    settle_discharge,
)

ZERO_TOTALS = Accumulators()


def _request_fingerprint(settlement_in: SettlementIn, person_ref: str) -> str:
    return fingerprint({"person_ref": person_ref, "hospital_code": settlement_in.hospital_code,
                        "total_cost": settlement_in.total_cost, "eligible_cost": settlement_in.eligible_cost,
                        "diagnoses": settlement_in.diagnoses, "discharged_on": settlement_in.discharged_on})


# The settlement's inputs in one statement: an earlier settlement of the encounter, the hospital's level, the patient
# in the read model, the admission of the encounter, the year's policy row (a composite, absent: the defaults), and
# the patient's accumulators of the year. The optimistic attempt (`_READ_SQL`, outside any transaction) locks nothing
# and reads the accumulators as last committed (NULL: no row yet); the locked one (`_LOCKED_READ_SQL`, in a
# transaction holding the encounter's lock) creates the row at zero if missing and locks it (an upsert that changes
# nothing still takes the row lock and returns the latest committed totals).
_INPUTS = """
SELECT (SELECT s.request_hash FROM settlements s WHERE s.encounter_id = $1) AS existing_hash,
       (SELECT h.level FROM hospitals h WHERE h.code = $3) AS hospital_level,
       p.household_status, p.household_id, p.village_code, p.county_code,
       (SELECT ad.id FROM admissions ad WHERE ad.encounter_id = $1) AS admission_id,
       (SELECT ad.person_ref FROM admissions ad WHERE ad.encounter_id = $1) AS admission_person_ref,
       (SELECT pol FROM policies pol WHERE pol.year = $4) AS policy_row,
       acc.basic_insurance, acc.critical_illness_base, acc.critical_illness_insurance, acc.medical_assistance
"""
_READ_SQL = _INPUTS + """FROM (SELECT) one
LEFT JOIN persons p ON p.person_ref = $2
LEFT JOIN accumulators acc ON acc.person_ref = $2 AND acc.year = $4
"""
_LOCKED_READ_SQL = """
WITH acc AS (
    INSERT INTO accumulators AS a (person_ref, year) VALUES ($2, $4)
    ON CONFLICT (person_ref, year) DO UPDATE SET person_ref = a.person_ref
    RETURNING basic_insurance, critical_illness_base, critical_illness_insurance, medical_assistance)
""" + _INPUTS + """FROM acc LEFT JOIN persons p ON p.person_ref = $2
"""

# The writes of a new settlement in one statement: the accumulators, the settlement row, its event in the outbox,
# and the relay's wake-up (NOTIFY is delivered at commit only). The accumulators move only if they still hold what
# was read ($31-$34; NULL: there was no row, which is inserted): otherwise nothing is written and no row comes back.
# The settlement is inserted under the encounter's lock ($35, taken here first when the statement is a transaction
# of its own), so a locked attempt of the same encounter never meets it halfway; a settlement of the encounter
# committed since the read fails the statement on the unique encounter_id. Both accumulator writes read `encounter`,
# so the lock is held before the totals' row is: a locked attempt takes them in that order too (the other order
# deadlocked against it; the data-modifying CTEs are not otherwise ordered).
_WRITE_SQL = """
WITH encounter AS (SELECT pg_advisory_xact_lock($35)),
fresh AS (
    INSERT INTO accumulators (person_ref, year, basic_insurance, critical_illness_base, critical_illness_insurance,
                              medical_assistance, updated_at)
    SELECT $4, $12::int, $19::numeric, $20::numeric, $21::numeric, $22::numeric, now()
    FROM encounter WHERE $31::numeric IS NULL
    ON CONFLICT (person_ref, year) DO NOTHING
    RETURNING 1),
moved AS (
    UPDATE accumulators SET basic_insurance = $19, critical_illness_base = $20, critical_illness_insurance = $21,
           medical_assistance = $22, updated_at = now()
    FROM encounter
    WHERE person_ref = $4 AND year = $12 AND basic_insurance = $31 AND critical_illness_base = $32
      AND critical_illness_insurance = $33 AND medical_assistance = $34
    RETURNING 1),
ins AS (
    INSERT INTO settlements (id, encounter_id, request_hash, status, person_ref, masked_id_number, household_id,
        village_code, county_code, hospital_code, hospital_level, admission_id, discharged_on, year, total_cost,
        eligible_cost, basic_insurance, critical_illness_insurance, medical_assistance, supplementary, patient_pays,
        critical_illness_base, policy, diagnoses, created_by)
    SELECT $1::uuid, $2, $3, 'completed', $4, $5, $6::uuid, $7, $8, $9, $10, $11::uuid, $13::date, $12::int,
        $14::numeric, $15::numeric, $23::numeric, $24::numeric, $25::numeric, $26::numeric, $27::numeric,
        $28::numeric, $16::jsonb, $17::jsonb, $18
    FROM encounter WHERE EXISTS (SELECT FROM fresh) OR EXISTS (SELECT FROM moved)
    RETURNING created_at),
evt AS (
    INSERT INTO outbox (event_id, topic, key, payload)
    SELECT $29::uuid, 'settlement-completed', $1::text, $30::jsonb FROM ins)
SELECT created_at, pg_notify('""" + NOTIFY_CHANNEL + """', '') FROM ins
"""


class Contended(Exception):
    """An optimistic settlement met a concurrent change (the accumulators moved, or the encounter was settled):
    nothing was written; settle again with `locked=True`."""


def encounter_lock(encounter_id: str) -> int:
    """The advisory lock a settlement of the encounter holds while it writes (a locked one: from its start)."""
    return advisory_key(f"settlement:{encounter_id}")


async def settle(driver: asyncpg.Connection, *, settlement_in: SettlementIn, pseudonym_key: str, settled_by: str,
                 locked: bool) -> tuple[SettlementRecord, bool]:
    """Settle a discharge; (settlement, created). Retries of one encounter return the first settlement, and the
    accumulators move once.

    The HIS's hot path, in plain SQL on the driver's connection: one statement reading every input, one writing
    accumulators, settlement and event. `locked=False` (the common case): outside any transaction, each statement a
    transaction of its own; the write applies only if the accumulators still hold what was read and the encounter is
    still unsettled, else `Contended` is raised and nothing was written. `locked=True`: inside a transaction that
    took the encounter's lock first (`encounter_lock`, `fupin_kit.db.write_connection`); the accumulators' row is
    locked by the read, so nothing can come in between. The optimistic way is two round trips, the locked one four
    (BEGIN with the lock, read, write, COMMIT): a round trip costs more than any step of the settlement, in this
    process and in PostgreSQL."""
    if (error := settlement_in.eligible_cost_error()) is not None:
        raise error
    person_ref, masked = person_ref_of(settlement_in.id_number, pseudonym_key)
    request_hash = _request_fingerprint(settlement_in, person_ref)
    year = settlement_in.discharged_on.year
    row = await driver.fetchrow(_LOCKED_READ_SQL if locked else _READ_SQL, settlement_in.encounter_id, person_ref,
                                settlement_in.hospital_code, year)
    assert row is not None
    if row["existing_hash"] is not None:
        if row["existing_hash"] != request_hash:
            raise encounter_conflict()
        return await _settlement_of_encounter(driver, settlement_in.encounter_id), False
    if row["hospital_level"] is None:
        raise Unprocessable("unknown_hospital", "hospital_code is not a registered hospital",
                            errors=[{"field": "hospital_code", "message": "unknown hospital"}])
    if row["household_status"] not in REGISTERED_POOR:
        raise Unprocessable("not_eligible", "the patient is not registered poor: no one-stop settlement")
    if row["admission_id"] is not None and row["admission_person_ref"] != person_ref:
        raise encounter_conflict()
    policy = DEFAULT_POLICY if row["policy_row"] is None else policy_from_row(YearPolicy(**dict(row["policy_row"])))
    if over_admission_maximum(settlement_in.total_cost, policy):
        raise Unprocessable("validation_error", "invalid request: total_cost", errors=[{
            "field": "total_cost", "message": f"above the per-admission maximum {policy.max_admission_total:.2f}"}])
    read = row["basic_insurance"]  # NULL: the person has no accumulators for the year yet
    before = ZERO_TOTALS if read is None else Accumulators(
        basic_insurance=read, critical_illness_base=row["critical_illness_base"],
        critical_illness_insurance=row["critical_illness_insurance"], medical_assistance=row["medical_assistance"])
    level = row["hospital_level"]
    breakdown = settle_discharge(level, settlement_in.total_cost, settlement_in.eligible_cost, before, policy)
    after = breakdown.added_to(before)
    if after.critical_illness_base > MAX_TOTAL:  # uncapped yearly sum: NUMERIC(14,2) would overflow (a 500)
        raise Unprocessable("validation_error", "invalid request: eligible_cost",
                            errors=[{"field": "eligible_cost", "message": "the patient's yearly eligible-cost total "
                                     "would pass the largest amount the books hold"}])
    settlement = SettlementRecord(
        id=uuid.uuid4(), encounter_id=settlement_in.encounter_id, person_ref=person_ref, masked_id_number=masked,
        household_id=row["household_id"], village_code=row["village_code"], county_code=row["county_code"],
        hospital_code=settlement_in.hospital_code, discharged_on=settlement_in.discharged_on, year=year,
        total_cost=settlement_in.total_cost, eligible_cost=settlement_in.eligible_cost,
        policy=_policy_document(policy), **_breakdown_columns(breakdown))
    event_id = uuid.uuid4()
    # the payload is JSON-ready already (the payload model's JSON data): no second conversion (`cloud_event`'s)
    event = envelope(source=COMPONENT, topic=published.SETTLEMENT_COMPLETED, subject=str(settlement.id),
                     data=published.settlement_completed(settlement), event_id=event_id,
                     time=dt.datetime.now(dt.UTC).isoformat(), traceparent=telemetry.current_traceparent())
    try:
        written = await driver.fetchrow(
            _WRITE_SQL, settlement.id, settlement.encounter_id, request_hash, person_ref, masked,
            settlement.household_id, settlement.village_code, settlement.county_code, settlement.hospital_code,
            level, row["admission_id"], year, settlement.discharged_on, settlement.total_cost,
            settlement.eligible_cost, orjson.dumps(settlement.policy).decode(),
            orjson.dumps(settlement_in.diagnoses).decode(), settled_by,
            after.basic_insurance, after.critical_illness_base, after.critical_illness_insurance,
            after.medical_assistance, breakdown.basic_insurance, breakdown.critical_illness_insurance,
            breakdown.medical_assistance, breakdown.supplementary, breakdown.patient_pays,
            breakdown.critical_illness_base, event_id, orjson.dumps(event).decode(),
            read, row["critical_illness_base"], row["critical_illness_insurance"], row["medical_assistance"],
            encounter_lock(settlement_in.encounter_id))
    except asyncpg.UniqueViolationError as exc:
        if locked or exc.constraint_name != "uq_settlements_encounter_id":
            raise
        raise Contended from exc  # settled meanwhile: the locked attempt answers with that settlement
    if written is None:
        if locked:
            raise RuntimeError("the accumulators moved under their row lock")
        raise Contended
    settlement.created_at = written["created_at"]
    return settlement, True


async def _settlement_of_encounter(driver: asyncpg.Connection, encounter_id: str) -> SettlementRecord:
    row = await driver.fetchrow(_RECORD_SQL, encounter_id)
    assert row is not None
    return SettlementRecord(**dict(row))  # jsonb comes back decoded (the pool's connections have SQLAlchemy's codecs)


_RECORD_SQL = f"SELECT {', '.join(RECORD_FIELDS)} FROM settlements WHERE encounter_id = $1"


_DEFAULT_DOCUMENT: dict[str, Any] = {}


def _policy_document(policy: SettlementPolicy) -> dict[str, Any]:
    """The policy stored with the settlement; the defaults' document is made once."""
    if policy is not DEFAULT_POLICY:
        return policy_document(policy)
    if not _DEFAULT_DOCUMENT:
        _DEFAULT_DOCUMENT.update(policy_document(policy))
    return dict(_DEFAULT_DOCUMENT)


def _breakdown_columns(breakdown: Breakdown) -> dict[str, Any]:
    return {"basic_insurance": breakdown.basic_insurance,
            "critical_illness_insurance": breakdown.critical_illness_insurance,
            "medical_assistance": breakdown.medical_assistance, "supplementary": breakdown.supplementary,
            "patient_pays": breakdown.patient_pays, "critical_illness_base": breakdown.critical_illness_base}


def breakdown_of(settlement: Settlement) -> Breakdown:
    return Breakdown(basic_insurance=settlement.basic_insurance,
                     critical_illness_insurance=settlement.critical_illness_insurance,
                     medical_assistance=settlement.medical_assistance, supplementary=settlement.supplementary,
                     patient_pays=settlement.patient_pays, critical_illness_base=settlement.critical_illness_base)


async def get_settlement(session: AsyncSession, *, settlement_id: str, for_update: bool = False) -> Settlement:
    try:
        key = uuid.UUID(settlement_id)
    except ValueError:
        key = None
    statement = select(Settlement).where(Settlement.id == key)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    settlement = (await session.exec(statement)).first() if key is not None else None
    if settlement is None:
        raise NotFound("settlement_not_found", "no settlement with this id")
    return settlement


async def reverse(session: AsyncSession, *, settlement_id: str, reversal: ReversalIn, reversed_by: str,
                  visible: Callable[[str], None] = lambda hospital_code: None) -> Settlement:
    """Reverse a completed settlement: take off exactly what it added to the person's yearly totals. `visible`
    raises for a settlement the caller may not see (another hospital's, for an HIS) before anything is checked."""
    settlement = await get_settlement(session, settlement_id=settlement_id, for_update=True)
    visible(settlement.hospital_code)
    if settlement.status != "completed":
        raise Conflict("invalid_status", f"the settlement is {settlement.status}; only a completed one can be reversed")
    totals = await accumulators.lock_year(session, person_ref=settlement.person_ref, year=settlement.year)
    accumulators.store(totals, breakdown_of(settlement).removed_from(accumulators.year_to_date(totals)))
    settlement.status = "reversed"
    settlement.reversal_reason = reversal.reason
    settlement.reversal_reason_code = reversal.reason_code
    settlement.reversed_by = reversed_by
    settlement.reversed_at = dt.datetime.now(dt.UTC)
    session.add_all([settlement, totals])
    await session.flush()
    # The free-text reason stays here: it may name the patient. The event carries the code only.
    await published.settlement_reversed(session, settlement, reason_code=reversal.reason_code)
    return settlement
