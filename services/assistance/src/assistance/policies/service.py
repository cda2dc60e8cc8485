"""Reading and setting the policy of a year; the contract's defaults where none was set."""

from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from assistance.policies.models import PolicyIn, PolicyOut, PolicyRow, WeightsIO
from assistance.policies.rules import DEFAULT_POLICY, Policy, Weights
from fupin_kit.policies import PolicyStore


def _from_row(row: PolicyRow) -> Policy:
    return Policy(
        helper_max_households=row.helper_max_households, team_min_members=row.team_min_members,
        team_min_days=row.team_min_days, team_stay_years=row.team_stay_years,
        weights=Weights(households=row.weight_households, villages=row.weight_villages, funds=row.weight_funds,
                        helper_coverage=row.weight_helper_coverage),
        excellent_from=row.excellent_from, pass_from=row.pass_from, veto_error_rate=row.veto_error_rate)


def _to_row(policy: Policy) -> dict[str, object]:
    w = policy.weights
    return dict(helper_max_households=policy.helper_max_households, team_min_members=policy.team_min_members,
                team_min_days=policy.team_min_days, team_stay_years=policy.team_stay_years,
                weight_households=w.households, weight_villages=w.villages, weight_funds=w.funds,
                weight_helper_coverage=w.helper_coverage, excellent_from=policy.excellent_from,
                pass_from=policy.pass_from, veto_error_rate=policy.veto_error_rate)


STORE: PolicyStore[int, Policy] = PolicyStore(PolicyRow, default=lambda year: DEFAULT_POLICY, from_row=_from_row,
                                              to_row=_to_row)


async def policy_for(session: AsyncSession, *, year: int) -> tuple[Policy, bool]:
    """The policy of `year` and whether it is the shipped default."""
    stored = await STORE.get(session, year)
    return stored.policy, stored.is_default


async def set_policy(session: AsyncSession, *, year: int, body: PolicyIn, updated_by: str) -> Policy:
    w = body.weights
    policy = Policy(helper_max_households=body.helper_max_households, team_min_members=body.team_min_members,
                    team_min_days=body.team_min_days, team_stay_years=body.team_stay_years,
                    weights=Weights(households=w.households, villages=w.villages, funds=w.funds,
                                    helper_coverage=w.helper_coverage),
                    excellent_from=body.excellent_from, pass_from=body.pass_from,
                    veto_error_rate=body.veto_error_rate)
    stored, _ = await STORE.put(session, year, policy, actor=updated_by)
    return stored.policy


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
