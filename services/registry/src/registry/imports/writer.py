"""Storing checked households in bulk: PostgreSQL COPY of households, members, history and outbox events in one
transaction per chunk, with the unique index on live memberships as the final guard against double registration."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from pydantic import TypeAdapter

from fupin_kit import telemetry
from fupin_kit.events.outbox import NOTIFY_CHANNEL
from registry.config import COMPONENT
from registry.events.published import (
    EXIT_CERTIFIED,
    HOUSEHOLD_REGISTERED,
    HOUSEHOLD_STATUS_CHANGED,
    RETURNED_TO_POVERTY,
    announced_here,
)
from registry.households.models import Status
from registry.imports.drafts import HouseholdDraft, RowError, new_id, rejected_rows

# An imported historical household announces its state like a live one would have.
TOPIC_FOR = {Status.registered: HOUSEHOLD_REGISTERED, Status.exited: EXIT_CERTIFIED,
             Status.returned: RETURNED_TO_POVERTY}
HOUSEHOLD_COLUMNS = ("id", "village_code", "town_code", "county_code", "status", "annual_income", "income_year",
                     "causes", "indicators", "low_income_guarantee", "import_id", "created_at", "updated_at",
                     "event_sequence")
MEMBER_COLUMNS = ("id", "household_id", "position", "person_ref", "masked_id_number", "birth_date", "name",
                  "relation", "health", "disability_grade", "labor", "school_stage", "boarding", "active")
HISTORY_COLUMNS = ("household_id", "from_status", "to_status", "action", "actor", "reason", "at")
OUTBOX_COLUMNS = ("event_id", "topic", "key", "payload")  # the kit's outbox row (fupin_kit.events.outbox)
_INSTANT = TypeAdapter(dt.datetime)
EventRecord = tuple[uuid.UUID, str, str, str]  # an outbox row: event_id, topic, key (the household id), payload


async def taken_refs(conn: asyncpg.Connection, refs: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT person_ref FROM member WHERE active AND person_ref = ANY($1::varchar[])",
                            list(refs))
    return {r["person_ref"] for r in rows}


def already_registered(draft: HouseholdDraft, taken: set[str]) -> list[RowError]:
    errors = [RowError(m.row, "id_number", "person_already_registered",
                       "already a member of a household that is not rejected or removed")
              for m in draft.members if m.person_ref in taken]
    return errors + rejected_rows(draft.key, draft.rows, {e.row for e in errors})


def snapshot_data(draft: HouseholdDraft, occurred_at: str) -> dict[str, Any]:
    """`household_snapshot(draft, draft.members, sequence=1)` built directly as JSON data (the pydantic model's
    `model_dump(mode="json")`, the same keys and values: tests/test_import_writer.py), for the thousands of a chunk.
    `occurred_at` is the instant as the model serialises it (`instant`)."""
    village = draft.village_code
    return {
        "household_id": str(draft.id), "status": str(draft.status), "village_code": village,
        "town_code": village[:9], "county_code": village[:6], "causes": list(draft.causes),
        "members": [{"member_id": str(m.id), "person_ref": m.person_ref, "birth_date": m.birth_date.isoformat(),
                     "relation": m.relation, "labor": m.labor, "school_stage": m.school_stage,
                     "boarding": m.boarding} for m in draft.members],
        "occurred_at": occurred_at, "sequence": 1}


def status_data(draft: HouseholdDraft, occurred_at: str) -> dict[str, Any]:
    """`status_changed(...)` of an imported household (no previous status), built directly as JSON data."""
    village = draft.village_code
    return {"household_id": str(draft.id), "status": str(draft.status), "previous_status": None,
            "village_code": village, "town_code": village[:9], "county_code": village[:6],
            "occurred_at": occurred_at}


def instant(at: dt.datetime) -> str:
    """A UTC instant as the event payload models serialise it."""
    return str(_INSTANT.dump_python(at, mode="json"))


def event_records(drafts: Sequence[HouseholdDraft], *, now: dt.datetime,
                  traceparent: str | None) -> list[EventRecord]:
    """Outbox rows of the drafts' events: the kit's CloudEvents envelope (`cloud_event`) around `snapshot_data` or
    `status_data`, serialised once."""
    occurred, stamp = instant(now), now.isoformat()
    records = []
    for draft in drafts:
        topic = TOPIC_FOR.get(draft.status)
        if topic is not None:
            data = snapshot_data(draft, occurred)
        elif announced_here(draft.status):
            topic, data = HOUSEHOLD_STATUS_CHANGED, status_data(draft, occurred)
        else:
            continue
        event_id = new_id()
        subject = str(draft.id)
        envelope: dict[str, Any] = {
            "specversion": "1.0", "id": str(event_id), "source": COMPONENT, "type": f"cn.fupin.{topic}",
            "subject": subject, "time": stamp, "datacontenttype": "application/json", "data": data}
        if traceparent:
            envelope["traceparent"] = traceparent
        records.append((event_id, topic, subject, orjson.dumps(envelope).decode()))
    return records


@dataclass
class Batch:
    """A checked chunk of a file with its households' events already serialised (built in the checking thread,
    off the event loop); `now` is their creation time."""

    drafts: list[HouseholdDraft]
    errors: list[RowError]
    rows: int
    households: int
    now: dt.datetime
    events: list[EventRecord]

    @classmethod
    def of(cls, drafts: list[HouseholdDraft], errors: list[RowError], *, rows: int, households: int,
           traceparent: str | None) -> "Batch":
        now = dt.datetime.now(dt.UTC)
        return cls(drafts, errors, rows, households, now, event_records(drafts, now=now, traceparent=traceparent))

    def events_of(self, drafts: Sequence[HouseholdDraft]) -> list[EventRecord]:
        """The events of some of the batch's households (the others were refused)."""
        keys = {str(d.id) for d in drafts}
        return [e for e in self.events if e[2] in keys]


async def store(conn: asyncpg.Connection, drafts: Sequence[HouseholdDraft], *, import_id: uuid.UUID,
                actor: str, now: dt.datetime | None = None, events: list[EventRecord] | None = None) -> None:
    """COPY the households (inside the caller's transaction) with their `events` (built here when not given);
    raises UniqueViolationError on a lost race."""
    now = now or dt.datetime.now(dt.UTC)
    reason = f"bulk import {import_id}"
    await conn.copy_records_to_table("household", columns=HOUSEHOLD_COLUMNS, records=[
        (d.id, d.village_code, d.village_code[:9], d.village_code[:6], str(d.status), d.annual_income,
         d.income_year, d.causes, orjson.dumps(d.indicators).decode(), d.low_income_guarantee, import_id, now, now,
         1 if d.status in TOPIC_FOR else 0)
        for d in drafts])
    await conn.copy_records_to_table("member", columns=MEMBER_COLUMNS, records=[
        (m.id, d.id, i, m.person_ref, m.masked_id_number, m.birth_date, m.name, m.relation, m.health,
         m.disability_grade, m.labor, m.school_stage, m.boarding, True)
        for d in drafts for i, m in enumerate(d.members)])
    await conn.copy_records_to_table("status_change", columns=HISTORY_COLUMNS, records=[
        (d.id, None, str(d.status), "imported", actor, reason, now) for d in drafts])
    if events is None:
        events = event_records(drafts, now=now, traceparent=telemetry.current_traceparent())
    if events:  # like the kit's copy_events: published if and only if the transaction commits; NOTIFY at commit
        await conn.copy_records_to_table("outbox", columns=OUTBOX_COLUMNS, records=events)
        await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")


async def record_errors(conn: asyncpg.Connection, import_id: uuid.UUID, errors: Sequence[RowError]) -> None:
    if errors:
        await conn.copy_records_to_table("import_row_error", columns=("import_id", "row", "field", "code", "message"),
                                         records=[(import_id, e.row, e.field, e.code, e.message) for e in errors])
