"""Budgets per jurisdiction and year, policy values per year, and the compliance report."""

from dataclasses import asdict, dataclass, replace
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from finance.budgets import rules
from finance.budgets.models import BudgetPolicy, BudgetPolicyIn, ComplianceReport, JurisdictionYear, JurisdictionYearIn
from finance.funds.rules import threshold_change_needs_approval
from fupin_kit.errors import AppError, Conflict, NotFound
from fupin_kit.policies import PolicyStore, Stored


async def put_year(session: AsyncSession, *, jurisdiction_code: str, year: int, body: JurisdictionYearIn,
                   recorded_by: str) -> tuple[JurisdictionYear, bool]:
    """Create or replace a jurisdiction's budget for a year; returns the row and whether it was created."""
    values = {"general_budget_revenue": body.general_budget_revenue, "special_fund_budget": body.special_fund_budget,
              "recorded_by": recorded_by, "note": body.note}
    created = (await session.exec(insert(JurisdictionYear)  # type: ignore[call-overload]
                                  .values(jurisdiction_code=jurisdiction_code, year=year, **values)
                                  .on_conflict_do_nothing().returning(col(JurisdictionYear.year)))).first() is not None
    row = await session.get(JurisdictionYear, (jurisdiction_code, year), with_for_update=True)
    assert row is not None
    if not created:
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        await session.flush()
    return row, created


async def get_year(session: AsyncSession, *, jurisdiction_code: str, year: int) -> JurisdictionYear | None:
    return await session.get(JurisdictionYear, (jurisdiction_code, year))


@dataclass(frozen=True)
class BudgetPolicyValues:
    """One year's values (the contract's defaults for a year without a row) and a threshold change waiting."""

    floor_ratio: Decimal = rules.DEFAULT_FLOOR_RATIO
    min_growth_rate: Decimal = rules.DEFAULT_MIN_GROWTH_RATE
    allocation_approval_threshold: Decimal | None = None
    pending_threshold: Decimal | None = None
    pending_threshold_by: str | None = None


def _from_row(row: BudgetPolicy) -> BudgetPolicyValues:
    return BudgetPolicyValues(**{name: getattr(row, name) for name in BudgetPolicyValues.__dataclass_fields__})


STORE: PolicyStore[int, BudgetPolicyValues] = PolicyStore(
    BudgetPolicy, default=lambda year: BudgetPolicyValues(), from_row=_from_row, to_row=asdict, actor="recorded_by")


async def policy_for(session: AsyncSession, *, year: int) -> BudgetPolicyValues:
    """The values in force in `year` (the defaults where none was set)."""
    return (await STORE.get(session, year)).policy


async def put_policy(session: AsyncSession, *, year: int, body: BudgetPolicyIn,
                     recorded_by: str) -> Stored[int, BudgetPolicyValues]:
    """Replace the year's values; a loosening threshold change is only recorded, for a second client to approve."""
    current = await STORE.row(session, year, for_update=True)
    threshold = body.allocation_approval_threshold
    values = BudgetPolicyValues(floor_ratio=body.floor_ratio, min_growth_rate=body.min_growth_rate,
                                allocation_approval_threshold=threshold)
    if current is not None and threshold_change_needs_approval(current.allocation_approval_threshold, threshold):
        values = replace(values, allocation_approval_threshold=current.allocation_approval_threshold,
                         pending_threshold=threshold, pending_threshold_by=recorded_by)
    stored, _ = await STORE.put(session, year, values, actor=recorded_by)
    return stored


async def compliance(session: AsyncSession, *, jurisdiction_code: str, year: int) -> ComplianceReport:
    current = await get_year(session, jurisdiction_code=jurisdiction_code, year=year)
    if current is None:
        raise NotFound("jurisdiction_year_not_found",
                       f"no budget recorded for jurisdiction {jurisdiction_code} in {year}")
    previous = await get_year(session, jurisdiction_code=jurisdiction_code, year=year - 1)
    policy = await policy_for(session, year=year)
    floor_ratio, min_growth = policy.floor_ratio, policy.min_growth_rate
    previous_budget = previous.special_fund_budget if previous else None
    assessment = rules.assess_special_fund_budget(
        general_budget_revenue=current.general_budget_revenue, special_fund_budget=current.special_fund_budget,
        previous_special_fund_budget=previous_budget, floor_ratio=floor_ratio, min_growth_rate=min_growth)
    return ComplianceReport(
        jurisdiction_code=jurisdiction_code, year=year, general_budget_revenue=current.general_budget_revenue,
        floor_ratio=rules.format_ratio(floor_ratio), floor_amount=assessment.floor_amount,
        special_fund_budget=current.special_fund_budget, meets_floor=assessment.meets_floor,
        previous_special_fund_budget=previous_budget,
        growth_rate=None if assessment.growth_rate is None else str(assessment.growth_rate),
        min_growth_rate=rules.format_ratio(min_growth), meets_growth=assessment.meets_growth)


async def decide_threshold(session: AsyncSession, *, year: int, approved: bool,
                           checker: str) -> Stored[int, BudgetPolicyValues]:
    """A second client approves (the new threshold applies) or refuses a waiting threshold change."""
    policy: BudgetPolicy | None = await STORE.row(session, year, for_update=True)
    if policy is None or policy.pending_threshold_by is None:
        raise Conflict("no_pending_change", f"no threshold change of {year} is waiting for approval")
    if policy.pending_threshold_by == checker:
        raise AppError(403, "self_approval_forbidden",
                       f"the threshold change was requested by {checker}: another client must approve it")
    if approved:
        policy.allocation_approval_threshold = policy.pending_threshold
        policy.recorded_by = f"{policy.pending_threshold_by}, approved by {checker}"
    policy.pending_threshold, policy.pending_threshold_by = None, None
    session.add(policy)
    await session.flush()
    return Stored(year, _from_row(policy), False)
