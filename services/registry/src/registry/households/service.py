"""Household identification (识别), reading, person look-ups and status moves with their history."""

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.errors import Conflict, NotFound, Unprocessable
from registry import persons
from registry.divisions.models import Division, Level
from registry.divisions.rules import CODE_LENGTH, is_code
from registry.divisions.service import get_division, invalid_division
from registry.events.published import publish_status
from registry.households.models import CLOSED, Household, Member, Status, StatusChange
from registry.households.schemas import HouseholdCreate, Relation

ALREADY_REGISTERED = "a member already belongs to a household that is not rejected or removed"


async def identify_household(session: AsyncSession, *, body: HouseholdCreate, actor: str,
                             pseudonym_key: str) -> Household:
    """Create an `identified` household; every member's ID number checked, each person in one live household."""
    village = await _village(session, body.village_code)
    people = [persons.identify_or_422(m.id_number, key=pseudonym_key, field=f"members[{i}].id_number",
                                      who=f"member {i}")
              for i, m in enumerate(body.members)]
    head = persons.identify_or_422(body.head_id_number, key=pseudonym_key, field="head_id_number", who="the head")
    refs = [p.person_ref for p in people]
    for i, ref in enumerate(refs):
        if ref in refs[:i]:
            raise Unprocessable("validation_error", f"member {i} repeats member {refs.index(ref)}",
                                errors=[{"field": f"members[{i}].id_number", "message": "the same person twice"}])
    _check_head(body, refs, head.person_ref)
    await _check_not_registered(session, refs)
    household = Household(
        village_code=village.code, town_code=village.code[:9], county_code=village.code[:6],
        status=Status.identified, annual_income=body.annual_income, income_year=body.income_year,
        causes=[str(c) for c in body.causes], indicators=body.indicators.model_dump(),
        low_income_guarantee=body.low_income_guarantee)
    session.add(household)
    session.add_all([Member(
        household_id=household.id, position=i, person_ref=p.person_ref, masked_id_number=p.masked_id_number,
        birth_date=p.birth_date, name=m.name, relation=str(m.relation), health=str(m.health),
        disability_grade=m.disability_grade, labor=str(m.labor),
        school_stage=str(m.school_stage) if m.school_stage else None, boarding=m.boarding, active=True)
        for i, (m, p) in enumerate(zip(body.members, people, strict=True))])
    session.add(StatusChange(household_id=household.id, from_status=None, to_status=Status.identified,
                             action="identified", actor=actor))
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration of one of the members won the race
        raise Conflict("person_already_registered", ALREADY_REGISTERED) from exc
    await publish_status(session, household, previous=None)
    await session.refresh(household)  # the database's defaults (created_at, updated_at)
    return household


async def _village(session: AsyncSession, code: str) -> Division:
    if not is_code(code) or len(code) != CODE_LENGTH[Level.village]:
        raise invalid_division("village_code is not a village code (12 digits)", "village_code")
    try:
        village = await get_division(session, code)
    except NotFound as exc:
        raise invalid_division(f"no division with code {code}", "village_code") from exc
    if village.level != Level.village:
        raise invalid_division(f"{code} is a {village.level}, not a village", "village_code")
    return village


def _check_head(body: HouseholdCreate, refs: list[str], head_ref: str) -> None:
    if head_ref not in refs:
        raise Unprocessable("head_not_member", "head_id_number is not the ID number of any member",
                            errors=[{"field": "head_id_number", "message": "not a member"}])
    index = refs.index(head_ref)
    if body.members[index].relation != Relation.head:
        raise Unprocessable("head_not_member", f"member {index} is the head but has relation "
                            f"{body.members[index].relation}",
                            errors=[{"field": f"members[{index}].relation", "message": "must be head"}])
    others = [i for i, m in enumerate(body.members) if m.relation == Relation.head and i != index]
    if others:
        raise Unprocessable("validation_error", "a household has one head",
                            errors=[{"field": f"members[{i}].relation", "message": "a second head"} for i in others])


async def _check_not_registered(session: AsyncSession, refs: list[str]) -> None:
    taken = set((await session.exec(select(Member.person_ref).where(
        col(Member.person_ref).in_(refs), col(Member.active).is_(True)))).all())
    if taken:
        raise Conflict("person_already_registered", ALREADY_REGISTERED, errors=[
            {"field": f"members[{i}].id_number", "message": "already registered in another household"}
            for i, ref in enumerate(refs) if ref in taken])


async def get_household(session: AsyncSession, household_id: uuid.UUID, *, for_update: bool = False) -> Household:
    household = await session.get(Household, household_id, with_for_update=for_update,
                                  populate_existing=for_update)
    if household is None:
        raise NotFound("household_not_found", f"no household {household_id}")
    return household


async def members_of(session: AsyncSession, household_id: uuid.UUID) -> Sequence[Member]:
    return (await session.exec(select(Member).where(Member.household_id == household_id)
                               .order_by(col(Member.position)))).all()


async def history_of(session: AsyncSession, household_id: uuid.UUID) -> Sequence[StatusChange]:
    return (await session.exec(select(StatusChange).where(StatusChange.household_id == household_id)
                               .order_by(col(StatusChange.id)))).all()


async def move(session: AsyncSession, household: Household, *, to: Status, action: str, actor: str,
               officer: str | None = None, reason: str | None = None) -> None:
    """Change the status and record who, when and why; closing a household frees its members. A status no snapshot
    topic announces is published on `household-status-changed` (the snapshot ones are published by the caller)."""
    previous = household.status
    session.add(StatusChange(household_id=household.id, from_status=previous, to_status=to, action=action,
                             actor=actor, officer=officer, reason=reason))
    household.status = to
    household.updated_at = dt.datetime.now(dt.UTC)
    if to in CLOSED:
        await session.exec(update(Member).where(col(Member.household_id) == household.id)
                           .values(active=False))
    await publish_status(session, household, previous=previous)
    await session.flush()


async def find_person(session: AsyncSession, *, id_number: str, pseudonym_key: str) -> tuple[Member, Household]:
    """The person's live membership, else the latest closed one; `404 person_not_found`."""
    person = persons.identify_or_422(id_number, key=pseudonym_key, field="id_number", who="id_number")
    row = (await session.exec(
        select(Member, Household).join(Household, col(Household.id) == Member.household_id)
        .where(Member.person_ref == person.person_ref)
        .order_by(col(Member.active).desc(), col(Household.updated_at).desc()).limit(1))).first()
    if row is None:
        raise NotFound("person_not_found", "no household has a member with this ID number")
    return row[0], row[1]
