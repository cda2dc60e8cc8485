"""Ranger quotas and posts: a county's active posts of a year never exceed its quota, under any concurrency
(posts and quota changes take the quota row's lock)."""

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fupin_kit.clock import today
from fupin_kit.errors import Conflict, NotFound, Unprocessable
from fupin_kit.ids import InvalidResidentId, age_from_birth, pseudonym, validate_resident_id
from welfare.households.service import member_by_person_ref
from welfare.policies.service import policy_for
from welfare.rangers.models import PostEndIn, PostIn, RangerPost, RangerQuota, post_out
from welfare.rangers.rules import ranger_reasons


async def _locked_quota(session: AsyncSession, county_code: str, year: int) -> RangerQuota | None:
    return (await session.exec(select(RangerQuota).where(RangerQuota.county_code == county_code,
                                                         RangerQuota.year == year).with_for_update())).first()


async def filled(session: AsyncSession, county_code: str, year: int) -> int:
    return (await session.exec(select(func.count()).select_from(RangerPost).where(
        RangerPost.county_code == county_code, RangerPost.year == year, RangerPost.status == "active"))).one()


def quota_out(county_code: str, year: int, quota: int, taken: int) -> dict[str, Any]:
    return {"county_code": county_code, "year": year, "quota": quota, "filled": taken,
            "available": max(0, quota - taken)}


async def read_quota(session: AsyncSession, county_code: str, year: int) -> dict[str, Any]:
    row = await session.get(RangerQuota, (county_code, year))
    return quota_out(county_code, year, row.quota if row else 0, await filled(session, county_code, year))


async def set_quota(session: AsyncSession, county_code: str, year: int, quota: int) -> tuple[dict[str, Any], bool]:
    """(the quota, created?); below the posts filled: 409 quota_below_filled."""
    row = await _locked_quota(session, county_code, year)
    if row is None:
        inserted = (await session.exec(insert(RangerQuota).values(county_code=county_code, year=year, quota=quota)
                                       .on_conflict_do_nothing().returning(col(RangerQuota.county_code)))).first()
        if inserted is not None:
            return quota_out(county_code, year, quota, 0), True
        row = await _locked_quota(session, county_code, year)
        assert row is not None
    taken = await filled(session, county_code, year)
    if quota < taken:
        raise Conflict("quota_below_filled", f"{taken} posts are filled in {year}", filled=taken,
                       errors=[{"field": "quota", "message": f"below the {taken} posts filled"}])
    row.quota = quota
    session.add(row)
    await session.flush()
    return quota_out(county_code, year, quota, taken), False


async def appoint(session: AsyncSession, body: PostIn, *, pseudonym_key: str) -> dict[str, Any]:
    try:
        id_number = validate_resident_id(body.id_number)
    except InvalidResidentId as exc:
        raise Unprocessable("invalid_id_number", f"id_number: {exc}",
                            errors=[{"field": "id_number", "message": str(exc)}]) from None
    found = await member_by_person_ref(session, pseudonym(id_number, pseudonym_key))
    if found is None:
        raise Unprocessable("not_eligible", "the person is not eligible for a ranger post",
                            reasons=["not_registered_poor"])
    member, household = found
    policy, _ = await policy_for(session, year=body.year)
    quota = await _locked_quota(session, household.county_code, body.year)  # serialises the county's year
    household_posts = (await session.exec(select(func.count()).select_from(RangerPost).where(
        RangerPost.household_id == household.household_id, RangerPost.year == body.year,
        RangerPost.status == "active"))).one()
    age = age_from_birth(member.birth_date, body.appointed_on)
    reasons = ranger_reasons(household_status=household.status, labor=member.labor, age=age,
                             household_posts=household_posts, policy=policy)
    if reasons:
        raise Unprocessable("not_eligible", "the person is not eligible for a ranger post: " + ", ".join(reasons),
                            reasons=reasons)
    taken = await filled(session, household.county_code, body.year)
    limit = quota.quota if quota is not None else 0
    if taken >= limit:
        raise Conflict("quota_exhausted", f"the county's {limit} ranger posts of {body.year} are filled",
                       quota=limit, filled=taken)
    post = RangerPost(member_id=member.member_id, person_ref=member.person_ref, household_id=household.household_id,
                      county_code=household.county_code, village_code=household.village_code, year=body.year,
                      appointed_on=body.appointed_on, age=age, yearly_allowance=policy.ranger_allowance,
                      created_at=dt.datetime.now(dt.UTC))
    session.add(post)
    await session.flush()
    return post_out(post)


def effective_status(post: RangerPost) -> str:
    """A post ends with its year."""
    return "ended" if post.status == "active" and post.year < today().year else post.status


async def load_post(session: AsyncSession, post_id: str, *, lock: bool = False) -> RangerPost:
    not_found = NotFound("ranger_post_not_found", "no such ranger post")
    try:
        key = uuid.UUID(post_id)
    except ValueError:
        raise not_found from None
    query = select(RangerPost).where(RangerPost.post_id == key)
    if lock:
        query = query.with_for_update()
    post = (await session.exec(query)).first()
    if post is None:
        raise not_found
    return post


async def end_post(session: AsyncSession, post_id: str, body: PostEndIn) -> dict[str, Any]:
    post = await load_post(session, post_id, lock=True)
    if post.status != "active":
        raise Conflict("invalid_status", f"the post is {post.status}", current_status=post.status)
    if body.ended_on < post.appointed_on or body.ended_on.year != post.year:
        raise Unprocessable("validation_error", "ended_on must be within the post's year, on or after appointed_on",
                            errors=[{"field": "ended_on", "message": "outside the post's year or before appointment"}])
    post.status, post.ended_on, post.end_reason = "ended", body.ended_on, body.reason
    session.add(post)
    await session.flush()
    return post_out(post)
