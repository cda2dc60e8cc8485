"""Storing checked households in bulk: PostgreSQL COPY of households, members, history and outbox events in one
transaction per chunk, with the unique index on live memberships as the final guard against double registration."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import asyncpg
import orjson
from pydantic import TypeAdapter

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
NULL = "\\N"  # COPY text format's null


async def taken_refs(conn: asyncpg.Connection, refs: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT person_ref FROM member WHERE active AND person_ref = ANY($1::varchar[])",
                            list(refs))
    return {r["person_ref"] for r in rows}


def already_registered(household: "Ready", taken: set[str]) -> list[RowError]:
    errors = [RowError(row, "id_number", "person_already_registered",
                       "already a member of a household that is not rejected or removed")
              for row, ref in zip(household.rows, household.refs, strict=True) if ref in taken]
    return errors + rejected_rows(household.key, household.rows, {e.row for e in errors})


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


def _text(cell: str) -> str:
    """A free-text cell in COPY's text format: backslash, tab, newline and carriage return escaped."""
    return cell.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Ready(NamedTuple):
    """A checked household as the lines of COPY's text format it adds to each table (built in the checking process,
    so that storing it is a few COPYs of these bytes), with what refusing it needs: its key, its rows and its
    members' person_refs (a checked household has one member per row, in order). Tuples and flat lists of text:
    the registry unpickles a chunk of them in a third of the time of dataclasses with (row, ref) pairs."""

    key: str
    rows: list[int]
    refs: list[str]
    household: str
    members: str
    history: str
    event: str  # its outbox row, "" when its status announces nothing


def ready(drafts: Sequence[HouseholdDraft], *, import_id: uuid.UUID, actor: str, now: dt.datetime,
          traceparent: str | None) -> list[Ready]:
    """The drafts as COPY lines: the values `store` used to COPY as records, and `event_records`' events."""
    events = {key: f"{event_id}\t{topic}\t{key}\t{_text(payload)}\n"
              for event_id, topic, key, payload in event_records(drafts, now=now, traceparent=traceparent)}
    stamp = now.isoformat()
    tail = f"\t{_text(actor)}\t{_text(f'bulk import {import_id}')}\t{stamp}\n"
    out = []
    for d in drafts:
        household_id, village, status = str(d.id), d.village_code, str(d.status)
        out.append(Ready(
            d.key, d.rows, [m.person_ref for m in d.members],
            f"{household_id}\t{village}\t{village[:9]}\t{village[:6]}\t{status}\t{d.annual_income}\t"
            f"{d.income_year}\t{{{','.join(d.causes)}}}\t{orjson.dumps(d.indicators).decode()}\t"
            f"{'t' if d.low_income_guarantee else 'f'}\t{import_id}\t{stamp}\t{stamp}\t"
            f"{1 if d.status in TOPIC_FOR else 0}\n",
            "".join(f"{m.id}\t{household_id}\t{i}\t{m.person_ref}\t{m.masked_id_number}\t{m.birth_date}\t"
                    f"{_text(m.name)}\t{m.relation}\t{m.health}\t"
                    f"{NULL if m.disability_grade is None else m.disability_grade}\t{m.labor}\t"
                    f"{m.school_stage or NULL}\t{'t' if m.boarding else 'f'}\tt\n"
                    for i, m in enumerate(d.members)),
            f"{household_id}\t{NULL}\t{status}\timported{tail}",
            events.get(household_id, "")))
    return out


@dataclass
class Batch:
    """A checked chunk of a file: its households ready to COPY, the row errors of the others."""

    households: list[Ready]
    errors: list[RowError]
    rows: int
    count: int  # households in the chunk, stored or not


async def store(conn: asyncpg.Connection, households: Sequence[Ready]) -> None:
    """COPY the households with their history and events (inside the caller's transaction); raises
    UniqueViolationError on a lost race."""
    for table, columns, lines in (("household", HOUSEHOLD_COLUMNS, [h.household for h in households]),
                                  ("member", MEMBER_COLUMNS, [h.members for h in households]),
                                  ("status_change", HISTORY_COLUMNS, [h.history for h in households]),
                                  ("outbox", OUTBOX_COLUMNS, [h.event for h in households if h.event])):
        if lines:  # (a memoryview: asyncpg would take bytes for a file name)
            await conn.copy_to_table(table, columns=columns, source=memoryview("".join(lines).encode()))
    if any(h.event for h in households):  # like the kit's copy_events: published if and only if the transaction
        await conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")  # commits; NOTIFY at commit


async def record_errors(conn: asyncpg.Connection, import_id: uuid.UUID, errors: Sequence[RowError]) -> None:
    if errors:
        await conn.copy_records_to_table("import_row_error", columns=("import_id", "row", "field", "code", "message"),
                                         records=[(import_id, e.row, e.field, e.code, e.message) for e in errors])
