"""The household read model (fupin_kit.events.households) on the real PostgreSQL server: one ordering rule (the
registry's sequence), set-based batches, members following the newest snapshot naming them, the after-apply hook."""

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field as PydanticField
from pydantic import ValidationError, create_model
from sqlmodel import Field, select

from fupin_events.payloads import HouseholdSnapshot
from fupin_kit.db import Database
from fupin_kit.events.households import (
    Applied,
    HouseholdColumns,
    HouseholdReadModel,
    MemberColumns,
    SnapshotEvent,
    _check,
)
from fupin_kit.testing import household_event


class KitHousehold(HouseholdColumns, table=True):
    __tablename__ = "kit_households"
    household_id: uuid.UUID = Field(primary_key=True)


class KitMember(MemberColumns, table=True):
    __tablename__ = "kit_members"
    person_ref: str = Field(primary_key=True, max_length=64)
    household_id: uuid.UUID = Field(index=True)
    member_id: uuid.UUID | None = None


hooked: list[Applied] = []


async def remember(session: object, applied: Applied) -> None:
    hooked.append(applied)


MODEL = HouseholdReadModel(households=KitHousehold, members=KitMember, after_apply=remember)


def person(ref: str) -> dict[str, object]:
    return {"member_id": str(uuid.uuid5(uuid.NAMESPACE_OID, ref)), "person_ref": ref, "birth_date": "1980-01-01",
            "relation": "head", "labor": "full"}


async def apply(db: Database, *events: dict[str, object]) -> Applied:
    async with db.session() as session:
        applied = await MODEL.apply(session, [MODEL.prepare(e) for e in events])
        await session.commit()
    return applied


async def state(db: Database, household_id: uuid.UUID) -> tuple[str | None, list[str]]:
    async with db.session() as session:
        household = await session.get(KitHousehold, household_id)
        refs = (await session.exec(select(KitMember.person_ref).where(KitMember.household_id == household_id)
                                   .order_by(KitMember.person_ref))).all()
    return (household.status if household else None), list(refs)


async def test_an_older_sequence_never_overwrites_a_newer_one(db: Database) -> None:
    h, run = uuid.uuid4(), uuid.uuid4().hex[:6]
    a, b, c = f"{run}-a", f"{run}-b", f"{run}-c"
    registered = household_event(h, "registered", [person(a), person(b)], sequence=1)
    exited = household_event(h, "exited", [person(a), person(c)], sequence=2)
    # within one batch, the newest wins whatever the order
    applied = await apply(db, exited, registered)
    assert [e.snapshot.status for e in applied.applied] == ["exited"] and len(applied.events) == 2
    assert await state(db, h) == ("exited", [a, c])
    # across batches, a late older snapshot changes nothing and the hook hears it was not applied
    applied = await apply(db, registered)
    assert applied.applied == [] and hooked[-1] is applied
    assert await state(db, h) == ("exited", [a, c])
    returned = household_event(h, "returned", [person(a)], sequence=3)
    await apply(db, returned)
    assert await state(db, h) == ("returned", [a])


async def test_a_member_follows_the_newest_snapshot_naming_them(db: Database) -> None:
    old, new, ref = uuid.uuid4(), uuid.uuid4(), f"{uuid.uuid4().hex[:6]}-moved"
    now = dt.datetime.now(dt.UTC)
    await apply(db, household_event(old, "removed", [person(ref)], occurred_at=now - dt.timedelta(hours=1)))
    await apply(db, household_event(new, "registered", [person(ref)], occurred_at=now))
    # the old household's late snapshot (another topic) is applied to that household but does not take them back
    await apply(db, household_event(old, "removed", [person(ref)], occurred_at=now - dt.timedelta(minutes=30)))
    assert await state(db, new) == ("registered", [ref])
    assert await state(db, old) == ("removed", [])


async def test_a_batch_of_many_households_is_one_call(db: Database) -> None:
    ids = [uuid.uuid4() for _ in range(300)]
    events = [household_event(h, "registered", [person(f"{h.hex[:10]}-{i}") for i in range(4)]) for h in ids]
    applied = await apply(db, *events)
    assert [e.household_id for e in applied.applied] == ids
    assert (await state(db, ids[-1]))[0] == "registered" and len((await state(db, ids[-1]))[1]) == 4


def test_a_malformed_snapshot_is_refused_in_prepare() -> None:
    event = household_event(uuid.uuid4(), "registered", [person("x")])
    del event["data"]["village_code"]
    with pytest.raises(ValidationError):
        MODEL.prepare(event)
    assert isinstance(MODEL.prepare(household_event(uuid.uuid4(), "exited", [])), SnapshotEvent)


def wire(event: dict[str, object]) -> bytes:
    return json.dumps(event, default=str).encode()


async def read_and_apply(db: Database, *events: dict[str, object]) -> Applied:
    """The batch path: each record's bytes through `read`, then one `apply`."""
    async with db.session() as session:
        applied = await MODEL.apply(session, [MODEL.read(wire(e))[1] for e in events])
        await session.commit()
    return applied


async def test_the_batch_path_reads_the_registrys_json_as_the_model_does(db: Database) -> None:
    h, run = uuid.uuid4(), uuid.uuid4().hex[:6]
    a, b = f"{run}-a", f"{run}-b"
    event = household_event(h, "registered", [person(a), person(b)], sequence=4, causes=["illness"])
    event_id, item = MODEL.read(wire(event))
    assert event_id == event["id"] and item.topic == "household-registered"
    assert item.data == event["data"]  # as it came: the check passed it
    prepared = MODEL.prepare(event)
    for name in ("household_id", "sequence", "occurred_at", "status", "village_code", "town_code", "county_code",
                 "causes", "members"):
        assert getattr(item, name) == getattr(prepared, name), name
    assert item.snapshot == prepared.snapshot
    await read_and_apply(db, event)
    assert await state(db, h) == ("registered", [a, b])
    async with db.session() as session:
        stored = await session.get(KitHousehold, h)
        member = await session.get(KitMember, a)
    assert stored is not None and stored.sequence == 4 and stored.town_code == "610723101"
    assert stored.occurred_at == prepared.occurred_at
    assert member is not None and member.birth_date == dt.date(1980, 1, 1) and member.member_id == uuid.uuid5(
        uuid.NAMESPACE_OID, a)


async def test_the_batch_path_leaves_what_its_check_refuses_to_the_model(db: Database) -> None:
    h, ref = uuid.uuid4(), f"{uuid.uuid4().hex[:6]}-x"
    # an upper-case id and a sequence as a string: not the registry's spelling, but the model takes them
    event = household_event(h, "exited", [person(ref)], validate=False)
    event["data"] = {**event["data"], "household_id": str(h).upper(), "sequence": "7"}  # type: ignore[dict-item]
    item = MODEL.read(wire(event))[1]
    assert item.data["household_id"] == str(h) and item.data["sequence"] == 7  # the validated snapshot's JSON
    applied = await read_and_apply(db, event)
    assert [e.household_id for e in applied.applied] == [h]
    assert await state(db, h) == ("exited", [ref])
    # malformed: the model refuses it, so the record takes the per-record path (dead-lettered there)
    for change in ({"village_code": 610723101001}, {"status": "gone"}, {"members": [{"person_ref": ref}]},
                   {"occurred_at": "yesterday"}):
        bad = household_event(uuid.uuid4(), "registered", [person(ref)], validate=False)
        bad["data"] = {**bad["data"], **change}  # type: ignore[dict-item]
        with pytest.raises(ValidationError):
            MODEL.read(wire(bad))


def test_the_batch_check_is_at_least_as_strict_as_the_model() -> None:
    check = _check(HouseholdSnapshot)
    assert check is not None
    good = household_event(uuid.uuid4(), "registered", [person("x")])["data"]
    assert check(good)  # type: ignore[arg-type]
    assert HouseholdSnapshot.model_validate(good).model_dump(mode="json") == good  # taken as it is
    variants = [{"household_id": 5}, {"household_id": "NOT-A-UUID"}, {"status": "Registered"},
                {"village_code": "61"}, {"village_code": 610723101001}, {"town_code": None}, {"county_code": "61072"},
                {"causes": ["a", 1]}, {"causes": None}, {"members": None}, {"occurred_at": "2026-01-01"},
                {"sequence": True}, {"sequence": 1.5}, {"members": [{**person("x"), "labor": "some"}]},
                {"members": [{**person("x"), "boarding": None}]}, {"members": [{**person("x"), "boarding": 1}]},
                {"members": [{**person("x"), "birth_date": "1980-13-01"}]},
                {"members": [{**person("x"), "person_ref": ""}]}, {"members": [person("x"), "x"]}]
    for change in variants:
        data = {**good, **change}  # type: ignore[dict-item]
        assert not check(data), change
        try:
            taken = HouseholdSnapshot.model_validate(data).model_dump(mode="json")
        except ValidationError:
            continue
        # the model takes it, but not as it is: the batch path uses the model's reading (`read`)
        assert json.dumps(taken, sort_keys=True) != json.dumps(data, sort_keys=True), change
    # a field of a type or with a constraint the check does not know: the model decides every snapshot
    assert _check(create_model("Other", household_id=(uuid.UUID, ...), rate=(Decimal, ...))) is None
    positive = Annotated[int, PydanticField(gt=0)]
    assert _check(create_model("Other", household_id=(uuid.UUID, ...), n=(positive, ...))) is None


def test_the_batch_check_is_derived_from_the_models_fields() -> None:
    """Another service's snapshot model gets its own check: its types, lengths, patterns and defaults."""
    facts = create_model(
        "Facts", household_id=(uuid.UUID, ...), status=(str, PydanticField(min_length=1, max_length=8)),
        village_code=(str, PydanticField(pattern=r"^\d{12}$")), town_code=(str | None, None),
        members=(list[dict[str, Any]], ...), labels=(list[Literal["a", "b"]], []))
    check = _check(facts)
    assert check is not None
    good = {"household_id": str(uuid.uuid4()), "status": "whatever", "village_code": "610723101001",
            "members": [{"any": "thing"}]}
    assert check(good) and check({**good, "town_code": None, "labels": ["a"], "unknown": 1})
    for change in ({"status": ""}, {"status": "too-long-a"}, {"village_code": "61072310100"},
                   {"village_code": "６１０７２３１０１００１"}, {"village_code": "610723101001\n"},
                   {"members": [1]}, {"labels": ["c"]}, {"labels": None}, {"town_code": 5}):
        assert not check({**good, **change}), change
    assert not check({k: v for k, v in good.items() if k != "members"})  # a required field
