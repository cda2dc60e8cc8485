"""The one-stop settlement waterfall (一站式结算) for registered-poor patients.

Source: seed §三(七)2 (先诊疗后付费; basic insurance, critical illness insurance and relief pay first, then medical
assistance and temporary assistance); the figures are the contract §4 defaults, changeable per calendar year.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from fupin_kit.money import round_fen

HospitalLevel = Literal["township", "county", "city", "province"]
HOSPITAL_LEVELS: tuple[HospitalLevel, ...] = ("township", "county", "city", "province")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LevelTerms:
    """Basic medical insurance terms at one hospital level: per-admission deductible and reimbursement rate."""

    deductible: Decimal
    rate: Decimal


def _default_levels() -> dict[str, LevelTerms]:
    return {
        "township": LevelTerms(Decimal("100.00"), Decimal("0.90")),
        "county": LevelTerms(Decimal("300.00"), Decimal("0.85")),
        "city": LevelTerms(Decimal("800.00"), Decimal("0.75")),
        "province": LevelTerms(Decimal("1500.00"), Decimal("0.65")),
    }


@dataclass(frozen=True)
class SettlementPolicy:
    """Every number of the waterfall for one calendar year (contract §4 defaults)."""

    levels: dict[str, LevelTerms] = field(default_factory=_default_levels)
    basic_annual_cap: Decimal = Decimal("300000.00")
    critical_illness_threshold: Decimal = Decimal("3000.00")
    critical_illness_rate: Decimal = Decimal("0.80")
    critical_illness_annual_cap: Decimal = Decimal("300000.00")
    assistance_rate: Decimal = Decimal("0.70")
    assistance_annual_cap: Decimal = Decimal("50000.00")
    self_pay_cap_rate: Decimal = Decimal("0.10")
    # The largest total cost one admission may settle (abuse guard, issue 12): above it the settlement is refused.
    max_admission_total: Decimal = Decimal("2000000.00")


def over_admission_maximum(total_cost: Decimal, policy: SettlementPolicy) -> bool:
    """True when one admission's total cost is above the policy's per-admission maximum (equal is allowed)."""
    return total_cost > policy.max_admission_total


DEFAULT_POLICY = SettlementPolicy()


@dataclass(frozen=True)
class Accumulators:
    """One person's totals for one calendar year: what each capped layer paid, and the critical-illness base
    (the eligible cost left after basic insurance, summed over the year's admissions)."""

    basic_insurance: Decimal = ZERO
    critical_illness_base: Decimal = ZERO
    critical_illness_insurance: Decimal = ZERO
    medical_assistance: Decimal = ZERO


@dataclass(frozen=True)
class Breakdown:
    """Who pays what for one discharge; the five parts add up to the total cost."""

    basic_insurance: Decimal
    critical_illness_insurance: Decimal
    medical_assistance: Decimal
    supplementary: Decimal
    patient_pays: Decimal
    critical_illness_base: Decimal  # this admission's addition to the yearly critical-illness total

    def added_to(self, ytd: Accumulators) -> Accumulators:
        """The year's accumulators after this settlement."""
        return Accumulators(
            basic_insurance=ytd.basic_insurance + self.basic_insurance,
            critical_illness_base=ytd.critical_illness_base + self.critical_illness_base,
            critical_illness_insurance=ytd.critical_illness_insurance + self.critical_illness_insurance,
            medical_assistance=ytd.medical_assistance + self.medical_assistance)

    def removed_from(self, ytd: Accumulators) -> Accumulators:
        """The year's accumulators after reversing this settlement: exactly what it added is taken off."""
        return Accumulators(
            basic_insurance=ytd.basic_insurance - self.basic_insurance,
            critical_illness_base=ytd.critical_illness_base - self.critical_illness_base,
            critical_illness_insurance=ytd.critical_illness_insurance - self.critical_illness_insurance,
            medical_assistance=ytd.medical_assistance - self.medical_assistance)


def _within_cap(amount: Decimal, cap: Decimal, paid_so_far: Decimal) -> Decimal:
    return max(ZERO, min(amount, cap - paid_so_far))


def basic_insurance(eligible_cost: Decimal, terms: LevelTerms, *, cap: Decimal, paid_so_far: Decimal) -> Decimal:
    """Step 1: (eligible cost − deductible) × rate, nothing at or below the deductible, within the annual cap."""
    if eligible_cost <= terms.deductible:
        return ZERO
    return _within_cap(round_fen((eligible_cost - terms.deductible) * terms.rate), cap, paid_so_far)


def critical_illness_insurance(admission_base: Decimal, *, base_so_far: Decimal, policy: SettlementPolicy,
                               paid_so_far: Decimal) -> Decimal:
    """Step 2: the rate applied to the part of this admission's base that lies above the threshold of the yearly
    total (earlier admissions of the year count towards the threshold), within the annual cap."""
    below_threshold = max(ZERO, policy.critical_illness_threshold - base_so_far)
    above = max(ZERO, admission_base - below_threshold)
    paid = round_fen(above * policy.critical_illness_rate)
    return _within_cap(paid, policy.critical_illness_annual_cap, paid_so_far)


def settle_discharge(level: str, total_cost: Decimal, eligible_cost: Decimal, year_to_date: Accumulators,
                     policy: SettlementPolicy = DEFAULT_POLICY) -> Breakdown:
    """The contract §4 waterfall: basic insurance, critical illness insurance, medical assistance, then the
    supplementary guarantee (兜底) paying whatever makes the patient's share exceed the self-pay cap of the total.
    Every step is rounded half-up to the fen; caps and the threshold use the person's year-to-date totals."""
    if not ZERO <= eligible_cost <= total_cost:
        raise ValueError("eligible cost must lie between 0 and the total cost")
    basic = basic_insurance(eligible_cost, policy.levels[level], cap=policy.basic_annual_cap,
                            paid_so_far=year_to_date.basic_insurance)
    base = eligible_cost - basic
    critical = critical_illness_insurance(base, base_so_far=year_to_date.critical_illness_base, policy=policy,
                                          paid_so_far=year_to_date.critical_illness_insurance)
    after_insurance = base - critical
    assistance = _within_cap(round_fen(after_insurance * policy.assistance_rate), policy.assistance_annual_cap,
                             year_to_date.medical_assistance)
    share = (total_cost - eligible_cost) + (after_insurance - assistance)
    self_pay_cap = round_fen(total_cost * policy.self_pay_cap_rate)
    supplementary = max(ZERO, share - self_pay_cap)
    return Breakdown(basic_insurance=basic, critical_illness_insurance=critical, medical_assistance=assistance,
                     supplementary=supplementary, patient_pays=share - supplementary, critical_illness_base=base)
