"""Storing checked households in bulk: PostgreSQL COPY of households, members, history and outbox events in one
transaction per chunk, with the unique index on live memberships as the final guard against double registration."""

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from fupin_kit.events.outbox import copy_events
from registry.config import COMPONENT
from registry.households.models import Status
from registry.households.snapshot import EXIT_CERTIFIED, HOUSEHOLD_REGISTERED, RETURNED_TO_POVERTY, household_snapshot
from registry.households.status_events import HOUSEHOLD_STATUS_CHANGED, announced_here, status_changed
from registry.imports.drafts import HouseholdDraft, RowError, rejected_rows

# An imported historical household announces its state like a live one would have.
TOPIC_FOR = {Status.registered: HOUSEHOLD_REGISTERED, Status.exited: EXIT_CERTIFIED,
             Status.returned: RETURNED_TO_POVERTY}
HOUSEHOLD_COLUMNS = ("id", "village_code", "town_code", "county_code", "status", "annual_income", "income_year",
                     "causes", "indicators", "low_income_guarantee", "import_id", "created_at", "updated_at",
                     "event_sequence")
MEMBER_COLUMNS = ("id", "household_id", "position", "person_ref", "masked_id_number", "birth_date", "name",
                  "relation", "health", "disability_grade", "labor", "school_stage", "boarding", "active")
HISTORY_COLUMNS = ("household_id", "from_status", "to_status", "action", "actor", "reason", "at")


async def taken_refs(conn: asyncpg.Connection, refs: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT person_ref FROM member WHERE active AND person_ref = ANY($1::varchar[])",
                            list(refs))
    return {r["person_ref"] for r in rows}


def already_registered(draft: HouseholdDraft, taken: set[str]) -> list[RowError]:
    errors = [RowError(m.row, "id_number", "person_already_registered",
                       "already a member of a household that is not rejected or removed")
              for m in draft.members if m.person_ref in taken]
    return errors + rejected_rows(draft.key, draft.rows, {e.row for e in errors})


def _event(draft: HouseholdDraft) -> tuple[str, str, dict[str, Any]] | None:
    """The snapshot a household of a historical status publishes; a status no snapshot topic announces (identified,
    town_verified) goes on `household-status-changed`, as the single-household path stages it (the war map counts
    every status)."""
    topic = TOPIC_FOR.get(draft.status)
    if topic is not None:
        return (topic, str(draft.id), household_snapshot(draft, draft.members, sequence=1))
    if announced_here(draft.status):
        return (HOUSEHOLD_STATUS_CHANGED, str(draft.id), status_changed(
            household_id=draft.id, status=draft.status, previous=None, village_code=draft.village_code))
    return None


async def store(conn: asyncpg.Connection, drafts: Sequence[HouseholdDraft], *, import_id: uuid.UUID,
                actor: str) -> None:
    """COPY the households (inside the caller's transaction); raises UniqueViolationError on a lost race."""
    now = dt.datetime.now(dt.UTC)
    reason = f"bulk import {import_id}"
    await conn.copy_records_to_table("household", columns=HOUSEHOLD_COLUMNS, records=[
        (d.id, d.village_code, d.village_code[:9], d.village_code[:6], str(d.status), d.annual_income,
         d.income_year, d.causes, json.dumps(d.indicators), d.low_income_guarantee, import_id, now, now,
         1 if d.status in TOPIC_FOR else 0)
        for d in drafts])
    await conn.copy_records_to_table("member", columns=MEMBER_COLUMNS, records=[
        (m.id, d.id, i, m.person_ref, m.masked_id_number, m.birth_date, m.name, m.relation, m.health,
         m.disability_grade, m.labor, m.school_stage, m.boarding, True)
        for d in drafts for i, m in enumerate(d.members)])
    await conn.copy_records_to_table("status_change", columns=HISTORY_COLUMNS, records=[
        (d.id, None, str(d.status), "imported", actor, reason, now) for d in drafts])
    await copy_events(conn, [e for e in map(_event, drafts) if e is not None], source=COMPONENT)


async def record_errors(conn: asyncpg.Connection, import_id: uuid.UUID, errors: Sequence[RowError]) -> None:
    if errors:
        await conn.copy_records_to_table("import_row_error", columns=("import_id", "row", "field", "code", "message"),
                                         records=[(import_id, e.row, e.field, e.code, e.message) for e in errors])
