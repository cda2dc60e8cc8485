"""One household read model for every consumer of the registry's household snapshots (issue 13 item 3, issue 14
item 5).

The registry publishes the whole household after each change (`fupin_events.payloads.HouseholdSnapshot`) on four
topics (`HOUSEHOLD_TOPICS`); a service keeps the latest snapshot of each household in its own tables. This module
gives it:
- tables mixins (`HouseholdColumns`, `MemberColumns`) for the usual columns; a service keeps its own table names and
  may keep columns of its own (they are filled by name, see `apply_snapshots`);
- ONE ordering rule: the registry's per-household `sequence`. A snapshot is applied unless the stored one has a
  higher sequence (a snapshot without one, published before v2, counts as 0: it never overwrites a sequenced one);
  snapshots of one household arrive on four topics in no fixed order, wall-clock times would not order them;
- ONE malformed-event policy: a snapshot that does not validate raises in `prepare`, the kit dead-letters it (class
  only) and the partition moves on;
- set-based SQL for a poll batch: one upsert for the households, one delete and one upsert for their members;
- an after-apply hook for what a service does next (education's grant catch-up, welfare's stop on removal).

Members: a person belongs to the household of the newest snapshot (by its `occurred_at`) that names them: after a
removal the registry lets another household register them, and the old household's late snapshot must not take them
back. The privacy rule of issue 12 holds: member id, person_ref pseudonym and birth date, never a masked ID number.
"""

import dataclasses
import datetime as dt
import functools
import re
import types
import typing
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import annotated_types
import orjson
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import JSON, BigInteger, Date, DateTime, Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_events.payloads import HouseholdSnapshot
from fupin_kit.events.consumer import BatchHandler, Event

__all__ = ["HOUSEHOLD_TOPICS", "Applied", "HouseholdColumns", "HouseholdReadModel", "MemberColumns",
           "SnapshotEvent", "apply_snapshots"]

HOUSEHOLD_TOPICS = ("household-registered", "exit-certified", "returned-to-poverty", "household-removed")


class HouseholdColumns(SQLModel):
    """The household columns of a read model (add `household_id` as the primary key, typed as the service needs)."""

    status: str = Field(max_length=20)
    village_code: str = Field(max_length=12, index=True)
    town_code: str = Field(max_length=9)
    county_code: str = Field(max_length=6, index=True)
    sequence: int | None = Field(default=None, sa_type=BigInteger)
    occurred_at: dt.datetime = Field(sa_type=DateTime(timezone=True), nullable=False)  # type: ignore[call-overload]


class MemberColumns(SQLModel):
    """The member columns of a read model (add the key, `person_ref` or `member_id`, and `household_id`).
    No masked ID number: beside a birth date it rebuilds the plain one (contract v2 §0)."""

    birth_date: dt.date = Field(sa_type=Date, nullable=False)  # type: ignore[call-overload]
    relation: str = Field(max_length=20)
    labor: str | None = Field(default=None, max_length=10)


@dataclasses.dataclass(frozen=True, eq=False)
class SnapshotEvent:
    """A household event: its snapshot as JSON (`data`), one the snapshot model takes as it is (checked by
    `HouseholdReadModel.read`, or the validated snapshot's JSON from `prepare`), and what the read model and the
    hooks read of it; `snapshot` validates it with the model on first use."""

    event_id: str
    topic: str
    time: dt.datetime  # the event's time (UTC when it carries no zone)
    data: dict[str, Any]
    model: type[BaseModel] = HouseholdSnapshot

    @functools.cached_property
    def snapshot(self) -> Any:
        """The snapshot validated by the read model's snapshot model."""
        return self.model.model_validate(self.data)

    @functools.cached_property
    def household_id(self) -> uuid.UUID:
        return uuid.UUID(self.data["household_id"])

    @property
    def sequence(self) -> int:
        return self.data.get("sequence") or 0

    @functools.cached_property
    def occurred_at(self) -> dt.datetime:
        occurred_at = self.data.get("occurred_at")
        return _aware(dt.datetime.fromisoformat(occurred_at) if occurred_at else self.time)

    @property
    def status(self) -> str:
        return self.data["status"]  # type: ignore[no-any-return]

    @property
    def village_code(self) -> str:
        return self.data["village_code"]  # type: ignore[no-any-return]

    @property
    def town_code(self) -> str:
        return self._field("town_code") or self.village_code[:9]

    @property
    def county_code(self) -> str:
        return self._field("county_code") or self.village_code[:6]

    @property
    def causes(self) -> list[str]:
        return self._field("causes") or []

    @property
    def members(self) -> list[Any]:
        """The members' JSON (none for a model without members)."""
        return self._field("members") or []

    def _field(self, name: str) -> Any:
        """A field of the snapshot model (None for one the model does not have, as the model would read it)."""
        return self.data.get(name) if name in _fields(self.model) else None


@functools.cache
def _fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(model.model_fields)


@dataclasses.dataclass(frozen=True)
class Applied:
    """What a batch did: `events` every new event in offset order, `applied` those whose snapshot is now held (the
    newest of its household in the batch, not older than the stored one)."""

    events: Sequence[SnapshotEvent]
    applied: Sequence[SnapshotEvent]
    before: Any = None  # what the model's `before_apply` returned


AfterApply = Callable[[AsyncSession, Applied], Awaitable[None]]
BeforeApply = Callable[[AsyncSession, Sequence[SnapshotEvent]], Awaitable[Any]]


@dataclasses.dataclass(frozen=True)
class HouseholdReadModel:
    """A service's household read model: its household table (keyed by `household_id`, with `sequence`), its
    member table (keyed by `person_ref` or `member_id`, with `household_id`) if it keeps members, and its hooks.

    Columns are filled by name from the snapshot when the table has them: households `status`, `village_code`,
    `town_code`, `county_code`, `causes`, `persons` (the number of members), `sequence`, `occurred_at`, `updated_at`;
    members `person_ref`,
    `member_id`, `household_id`, `birth_date`, `relation`, `labor`, `school_stage`, `boarding`, `position` (the
    order in the snapshot), `household_status`, `village_code`, `town_code`, `county_code`, `occurred_at`,
    `updated_at`."""

    households: type[SQLModel]
    members: type[SQLModel] | None = None
    after_apply: AfterApply | None = None
    # reads (and locks) what the after-apply hook compares with, before the upsert (the dashboard's tallies)
    before_apply: BeforeApply | None = None
    snapshot_model: type[BaseModel] = HouseholdSnapshot  # a lenient model reads snapshots published before v2

    def prepare(self, event: Event) -> SnapshotEvent:
        """Validate one event with the snapshot model (raises on malformed content: the kit dead-letters it)."""
        snapshot = self.snapshot_model.model_validate(event["data"])
        item = SnapshotEvent(event_id=str(event["id"]), topic=str(event.get("type", "")).removeprefix("cn.fupin."),
                             time=_event_time(event.get("time")), data=snapshot.model_dump(mode="json"),
                             model=self.snapshot_model)
        item.__dict__["snapshot"] = snapshot  # validated already
        return item

    def read(self, value: bytes) -> tuple[str, SnapshotEvent]:
        """`prepare` from a record's bytes, for the batch path: a snapshot in the plain form the registry publishes
        passes a check in plain Python (`_check`, stricter than the model) and is used as it came; any other is
        validated by the model (malformed: raises, and the per-record path dead-letters it). A third of the CPU of
        the model's validation."""
        event = orjson.loads(value)
        data, check = event["data"], _check(self.snapshot_model)
        if check is None or type(data) is not dict or not check(data):
            return str(event["id"]), self.prepare(event)
        return str(event["id"]), SnapshotEvent(
            event_id=str(event["id"]), topic=str(event.get("type", "")).removeprefix("cn.fupin."),
            time=_event_time(event.get("time")), data=data, model=self.snapshot_model)

    async def apply(self, session: AsyncSession, events: Sequence[SnapshotEvent]) -> Applied:
        return await apply_snapshots(session, self, events)

    def handler(self) -> BatchHandler[SnapshotEvent]:
        return BatchHandler(self.prepare, self.apply, read=self.read)

    def handlers(self) -> dict[str, BatchHandler[SnapshotEvent]]:
        """The kit handlers of the four household topics."""
        handler = self.handler()
        return {topic: handler for topic in HOUSEHOLD_TOPICS}


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _event_time(value: Any) -> dt.datetime:
    try:
        return _aware(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return dt.datetime.now(dt.UTC)


# --- the batch path's check of a snapshot's JSON, derived from the snapshot model's fields (their types, `Literal`
# values, patterns and lengths): as strict as the model or stricter (plain JSON types, canonical spellings), so what
# it passes the model would take unchanged; what it does not pass, the model decides (`HouseholdReadModel.read`).
# A field whose type or constraint it does not know leaves the whole model to pydantic.
_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII).fullmatch
# a day PostgreSQL refuses (31 February) fails the batch's statement, and the per-record path has the model refuse it
_DATE_TEXT = re.compile(r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])", re.ASCII).fullmatch
_MOMENT_TEXT = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?"
                          r"(Z|[+-][0-9]{2}:[0-9]{2})?", re.ASCII).fullmatch
_BIGINT = 10**18  # an integer the read model's BIGINT columns hold


def _moment(value: str) -> bool:
    if _MOMENT_TEXT(value) is None:
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# A value's check: its JSON type, and a test of a value of that type (None: any); in two parts so that the usual
# case costs no Python call (the tests are mostly C functions: a pattern's fullmatch, a set's __contains__)
_Test = Callable[[Any], Any] | None
_Check = tuple[type, _Test]

_PLAIN_CHECKS: dict[Any, _Check] = {
    uuid.UUID: (str, _UUID_TEXT),
    dt.date: (str, _DATE_TEXT),
    dt.datetime: (str, _moment),
    int: (int, lambda value: -_BIGINT < value < _BIGINT),
    bool: (bool, None),
    dict[str, Any]: (dict, None),
}


def _text_check(constraints: Sequence[Any]) -> _Check | None:
    """A `str` with these pydantic constraints: an anchored pattern (`^…$`, matched in ASCII: stricter than the
    model's Unicode `\\d`), a minimum and a maximum length; None for any other constraint."""
    fullmatch, shortest, longest = None, 0, None
    for constraint in constraints:
        if isinstance(constraint, annotated_types.MinLen):
            shortest = constraint.min_length
        elif isinstance(constraint, annotated_types.MaxLen):
            longest = constraint.max_length
        elif getattr(constraint, "__dict__", {}).keys() == {"pattern"} and re.fullmatch(r"\^.*[^\\]\$",
                                                                                        constraint.pattern or ""):
            fullmatch = re.compile(constraint.pattern[1:-1], re.ASCII).fullmatch
        else:
            return None
    if not shortest and longest is None:
        return str, fullmatch
    return str, lambda value: (len(value) >= shortest and (longest is None or len(value) <= longest)
                               and (fullmatch is None or fullmatch(value) is not None))


def _value_check(annotation: Any, constraints: Sequence[Any] = ()) -> tuple[_Check, bool] | None:
    """The check of a present value of this type and whether it may be null, or None when this module cannot
    check it."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        inner = [c for a in args[1:] for c in (a.metadata if isinstance(a, FieldInfo) else [a])]
        return _value_check(args[0], [*constraints, *inner])
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        present = _value_check(next(a for a in args if a is not type(None)), constraints)
        return None if present is None else (present[0], True)
    check: _Check | None = None
    if annotation is str:
        check = _text_check(constraints)
    elif constraints:
        return None
    elif origin is typing.Literal and all(type(a) is str for a in args):
        check = (str, frozenset(args).__contains__)
    elif origin is list and len(args) == 1:
        item = _value_check(args[0])
        if item is not None and not item[1]:
            check = (list, _all_items(*item[0]))
    elif annotation in _PLAIN_CHECKS:
        check = _PLAIN_CHECKS[annotation]
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        passes = _model_check(annotation)
        check = None if passes is None else (dict, passes)
    return None if check is None else (check, False)


def _all_items(kind: type, test: _Test) -> Callable[[list[Any]], bool]:
    return lambda values: all(type(v) is kind and (test is None or test(v)) for v in values)


_ABSENT = object()


def _model_check(model: type[BaseModel]) -> Callable[[dict[str, Any]], bool] | None:
    """A JSON object (a dict) this model takes as it is: each field present passes its check (or is null where the
    model allows it), each required one is present."""
    fields: list[tuple[str, type, _Test, bool, bool]] = []  # name, JSON type, test, required, nullable
    for name, field in model.model_fields.items():
        found = _value_check(field.annotation, field.metadata)
        if found is None:
            return None
        (kind, test), nullable = found
        fields.append((name, kind, test, field.is_required(), nullable))

    def passes(data: dict[str, Any]) -> bool:
        for name, kind, test, required, nullable in fields:
            value = data.get(name, _ABSENT)
            if type(value) is not kind or (test is not None and not test(value)):
                if value is _ABSENT:
                    if required:
                        return False
                elif not (value is None and nullable):
                    return False
        return True

    return passes


@functools.cache
def _check(model: type[BaseModel]) -> Callable[[dict[str, Any]], bool] | None:
    """The check of a snapshot's JSON (a dict) for `model`, or None when the model has a field whose type or
    constraint this module does not know (each snapshot is then validated by the model)."""
    passes = _model_check(model)
    return None if passes is None else (lambda data: type(data) is dict and passes(data))


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


_Getter = Callable[["SnapshotEvent"], Any]
# What each household column holds (of a household row, and a member row's household columns)
_HOUSEHOLD_VALUES: dict[str, _Getter] = {
    "household_id": lambda item: item.data["household_id"],
    "status": lambda item: item.data["status"],
    "village_code": lambda item: item.data["village_code"],
    "town_code": lambda item: item.town_code,
    "county_code": lambda item: item.county_code,
    "causes": lambda item: item.causes,
    "persons": lambda item: len(item.members),
    "sequence": lambda item: item.data.get("sequence"),
    "occurred_at": lambda item: item.occurred_at,
}
# What each column of a member row holds, in SQL: `m` the member's fields in the snapshot (and its `position`,
# from 1), `h` its household's row
_MEMBER_FIELDS = ("person_ref", "member_id", "birth_date", "relation", "labor", "school_stage", "boarding")
_MEMBER_HOUSEHOLD = ("household_id", "status", "village_code", "town_code", "county_code", "occurred_at")
_MEMBER_VALUES: dict[str, str] = {
    **{name: f"m.{name}" for name in _MEMBER_FIELDS},
    "boarding": "coalesce(CAST(m.boarding AS BOOLEAN), false)", "position": "m.position - 1",
    "household_id": "h.household_id", "household_status": "h.status", "village_code": "h.village_code",
    "town_code": "h.town_code", "county_code": "h.county_code", "occurred_at": "h.occurred_at",
}


@functools.cache
def _plan(households: Table, members: Table | None) -> tuple[tuple[str, _Getter], ...]:
    """The household values a batch sends: the household table's known columns, and those of its members' rows."""
    names = {*households.c.keys(), *(_MEMBER_HOUSEHOLD if members is not None else ())}
    return tuple((name, getter) for name, getter in _HOUSEHOLD_VALUES.items() if name in names)


def _rows(plan: tuple[tuple[str, _Getter], ...], events: Sequence[SnapshotEvent]) -> list[dict[str, Any]]:
    """A JSON object per event: its household values by name."""
    return [{name: getter(item) for name, getter in plan} for item in events]


def _json(rows: Sequence[dict[str, Any]]) -> str:
    """One JSON parameter for a batch's rows: asyncpg encodes an array parameter value by value, which cost a
    consumer more CPU than the JSON costs PostgreSQL."""
    return orjson.dumps(rows).decode()


def _pg_type(column: Any) -> str:
    return str(column.type.compile(dialect=postgresql.dialect()))


def _quoted(name: str) -> str:
    return f'"{name}"'


def _cast(value: str, column: Any) -> str:
    """`value` (SQL text, or JSON for a JSON column) as the column's type."""
    return f"CAST({value} AS {'JSONB' if isinstance(column.type, JSON) else _pg_type(column)})"


_NOW = "CAST(:now AS TIMESTAMPTZ)"
_ROWS = "json_to_recordset(CAST(:rows AS JSON))"
# every member of the rows, with its household's row
_MEMBERS_OF_ROWS = (
    f"ROWS FROM ({_ROWS} AS ({', '.join(f'{name} TEXT' for name in _MEMBER_HOUSEHOLD)}, members JSON)) "
    f"WITH ORDINALITY AS h({', '.join(_MEMBER_HOUSEHOLD)}, members, i) CROSS JOIN LATERAL ROWS FROM "
    f"(json_to_recordset(h.members) AS ({', '.join(f'{name} TEXT' for name in _MEMBER_FIELDS)})) "
    f"WITH ORDINALITY AS m({', '.join(_MEMBER_FIELDS)}, position)")


@functools.cache
def _households_upsert(table: Table) -> TextClause:
    """The rows' households (`INSERT ... SELECT ... FROM json_to_recordset(:rows)`: the statement's text is the
    same for any number of rows, prepared once) unless a higher sequence is stored."""
    columns = [name for name in (*_HOUSEHOLD_VALUES, "updated_at") if name in table.c]
    fields = ", ".join(f"{_quoted(c)} {'JSON' if isinstance(table.c[c].type, JSON) else 'TEXT'}"
                       for c in columns if c != "updated_at")
    picks = ", ".join(_cast(_NOW if c == "updated_at" else f"u.{_quoted(c)}", table.c[c]) for c in columns)
    names = ", ".join(_quoted(c) for c in columns)
    updates = ", ".join(f"{_quoted(c)} = excluded.{_quoted(c)}" for c in columns if c != "household_id")
    return text(f"INSERT INTO {_quoted(table.name)} ({names}) SELECT {picks} FROM {_ROWS} AS u({fields}) "
                f"ON CONFLICT (household_id) DO UPDATE SET {updates} "
                f"WHERE coalesce({_quoted(table.name)}.sequence, 0) <= coalesce(excluded.sequence, 0) "
                "RETURNING household_id")


@functools.cache
def _replace_members(households: Table, members: Table, key: str) -> TextClause:
    """The members of the rows' households (`:ids`), in one statement: the stored members the rows no longer name
    are deleted and every member they name is upserted (two disjoint sets of rows); a person named twice, as the
    newer snapshot names them (its `occurred_at`, then the later event, then the later place in it). A stored
    member moves only when it is already this household's, or its household's snapshot is not newer than the one
    naming them now."""
    columns = [name for name in (*_MEMBER_VALUES, "updated_at") if name in members.c]
    picks = ", ".join(f"{_cast(_NOW if c == 'updated_at' else _MEMBER_VALUES[c], members.c[c])} AS {_quoted(c)}"
                      for c in columns)
    names = ", ".join(_quoted(c) for c in columns)
    updates = ", ".join(f"{_quoted(c)} = excluded.{_quoted(c)}" for c in columns if c != key)
    person = _cast(_MEMBER_VALUES[key], members.c[key])
    ids = _cast("u", members.c.household_id)
    h, m = _quoted(households.name), _quoted(members.name)
    stored = f"(SELECT h.occurred_at FROM {h} h WHERE h.household_id = {m}.household_id)"
    naming = f"(SELECT h.occurred_at FROM {h} h WHERE h.household_id = excluded.household_id)"
    return text(f"WITH named AS MATERIALIZED (SELECT {picks}, {person} AS _person, "
                f"CAST(h.occurred_at AS TIMESTAMPTZ) AS _at, h.i AS _i, m.position AS _position "
                f"FROM {_MEMBERS_OF_ROWS}), "
                f"leaving AS (DELETE FROM {m} WHERE household_id = ANY(ARRAY(SELECT {ids} "
                f"FROM json_array_elements_text(CAST(:ids AS JSON)) AS u)) "
                f"AND NOT EXISTS (SELECT FROM named WHERE named._person = {m}.{_quoted(key)})) "
                f"INSERT INTO {m} ({names}) SELECT DISTINCT ON (_person) {names} FROM named "
                f"ORDER BY _person, _at DESC, _i DESC, _position DESC "
                f"ON CONFLICT ({_quoted(key)}) DO UPDATE SET {updates} "
                f"WHERE {m}.household_id = excluded.household_id OR {stored} IS NULL OR {stored} <= {naming}")


async def apply_snapshots(session: AsyncSession, model: HouseholdReadModel,
                          events: Sequence[SnapshotEvent]) -> Applied:
    """Upsert the newest snapshot of each household among `events` (in offset order) unless a snapshot with a
    higher `sequence` is stored; replace the members of each applied household; then the model's hook. Set-based:
    a handful of statements for the whole batch, inside the caller's transaction, their rows built by PostgreSQL
    from one JSON parameter."""
    if not events:
        return Applied([], [])
    households = _table(model.households)
    members = _table(model.members) if model.members is not None else None
    now = dt.datetime.now(dt.UTC)
    before = await model.before_apply(session, events) if model.before_apply is not None else None
    newest: dict[uuid.UUID, SnapshotEvent] = {}
    for item in events:  # the later of two equal sequences wins, as it would one by one
        held = newest.get(item.household_id)
        if held is None or held.sequence <= item.sequence:
            newest[item.household_id] = item
    chosen = [item for item in events if newest[item.household_id] is item]  # in offset order
    rows = _rows(_plan(households, members), chosen)
    connection = await session.connection()
    upserted = await connection.execute(_households_upsert(households), {"rows": _json(rows), "now": now})
    won = {str(h) for h in upserted.scalars()}
    held_rows = [(item, row) for item, row in zip(chosen, rows, strict=True) if str(item.household_id) in won]
    applied = [item for item, _ in held_rows]
    if members is not None and applied:
        key = next(iter(members.primary_key.columns)).name
        await connection.execute(_replace_members(households, members, key), {
            "rows": _json([{**row, "members": item.members} for item, row in held_rows]),
            "ids": _json([row["household_id"] for _, row in held_rows]), "now": now})
    result = Applied(list(events), applied, before)
    if model.after_apply is not None:
        await model.after_apply(session, result)
    return result
