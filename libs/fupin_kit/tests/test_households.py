"""The household read model (fupin_kit.events.households) on the real PostgreSQL server: one ordering rule (the
registry's sequence), set-based batches, members following the newest snapshot naming them, the after-apply hook."""

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError
from sqlmodel import Field, select

from fupin_kit.db import Database
from fupin_kit.events.households import (
    Applied,
    HouseholdColumns,
    HouseholdReadModel,
    MemberColumns,
    SnapshotEvent,
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
