"""Reading and setting the policy of a year; the contract's defaults where none was set."""

from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.policies.models import PolicyIn, PolicyOut, PolicyRow, WeightsIO
from assistance.policies.rules import DEFAULT_POLICY, Policy, Weights


async def policy_for(session: AsyncSession, *, year: int) -> tuple[Policy, bool]:
    """The policy of `year` and whether it is the shipped default."""
    row = (await session.exec(select(PolicyRow).where(PolicyRow.year == year))).first()
    if row is None:
        return DEFAULT_POLICY, True
    return Policy(
        helper_max_households=row.helper_max_households, team_min_members=row.team_min_members,
        team_min_days=row.team_min_days, team_stay_years=row.team_stay_years,
        weights=Weights(households=row.weight_households, villages=row.weight_villages, funds=row.weight_funds,
                        helper_coverage=row.weight_helper_coverage),
        excellent_from=row.excellent_from, pass_from=row.pass_from, veto_error_rate=row.veto_error_rate), False


async def set_policy(session: AsyncSession, *, year: int, body: PolicyIn, updated_by: str) -> Policy:
    w = body.weights
    values = dict(helper_max_households=body.helper_max_households, team_min_members=body.team_min_members,
                  team_min_days=body.team_min_days, team_stay_years=body.team_stay_years,
                  weight_households=w.households, weight_villages=w.villages, weight_funds=w.funds,
                  weight_helper_coverage=w.helper_coverage, excellent_from=body.excellent_from,
                  pass_from=body.pass_from, veto_error_rate=body.veto_error_rate, updated_by=updated_by)
    statement = insert(PolicyRow).values(year=year, **values)
    await session.exec(statement.on_conflict_do_update(index_elements=["year"], set_=values))  # type: ignore[call-overload]
    policy, _ = await policy_for(session, year=year)
    return policy


def policy_view(year: int, policy: Policy, is_default: bool) -> PolicyOut:
    w = policy.weights
    return PolicyOut(year=year, is_default=is_default, helper_max_households=policy.helper_max_households,
                     team_min_members=policy.team_min_members, team_min_days=policy.team_min_days,
                     team_stay_years=policy.team_stay_years,
                     weights=WeightsIO(households=w.households, villages=w.villages, funds=w.funds,
                                       helper_coverage=w.helper_coverage),
                     excellent_from=policy.excellent_from, pass_from=policy.pass_from,
                     veto_error_rate=policy.veto_error_rate)


def policy_record(policy: Policy) -> dict[str, object]:
    """The policy as stored with an assessment (decimals as strings)."""
    w = policy.weights

    def s(value: Decimal) -> str:
        return str(value)

    return {"helper_max_households": policy.helper_max_households, "team_min_members": policy.team_min_members,
            "team_min_days": policy.team_min_days, "team_stay_years": policy.team_stay_years,
            "weights": {"households": s(w.households), "villages": s(w.villages), "funds": s(w.funds),
                        "helper_coverage": s(w.helper_coverage)},
            "excellent_from": s(policy.excellent_from), "pass_from": s(policy.pass_from),
            "veto_error_rate": s(policy.veto_error_rate)}
