"""The settlement waterfall by itself (no database): contract §4 examples, boundaries, properties."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fupin_kit.money import round_fen
from medical.settlements.rules import (
    DEFAULT_POLICY,
    HOSPITAL_LEVELS,
    Accumulators,
    Breakdown,
    over_admission_maximum,
    settle_discharge,
)

D = Decimal
FRESH = Accumulators()


def parts(b: Breakdown) -> tuple[D, D, D, D, D]:
    return (b.basic_insurance, b.critical_illness_insurance, b.medical_assistance, b.supplementary, b.patient_pays)


def test_example_a_first_admission_at_a_county_hospital() -> None:
    a = settle_discharge("county", D("52000.00"), D("50000.00"), FRESH)
    assert parts(a) == (D("42245.00"), D("3804.00"), D("2765.70"), D("0.00"), D("3185.30"))


def test_example_b_same_person_again_the_threshold_already_passed() -> None:
    a = settle_discharge("county", D("52000.00"), D("50000.00"), FRESH)
    ytd = a.added_to(FRESH)
    assert ytd.critical_illness_base == D("7755.00")
    b = settle_discharge("county", D("60000.00"), D("40000.00"), ytd)
    assert parts(b) == (D("33745.00"), D("5004.00"), D("875.70"), D("14375.30"), D("6000.00"))


def test_reversal_takes_off_exactly_what_the_settlement_added() -> None:
    a = settle_discharge("county", D("52000.00"), D("50000.00"), FRESH)
    b = settle_discharge("county", D("60000.00"), D("40000.00"), a.added_to(FRESH))
    assert b.removed_from(b.added_to(a.added_to(FRESH))) == a.added_to(FRESH)


@pytest.mark.parametrize("level,deductible", [("township", "100.00"), ("county", "300.00"), ("city", "800.00"),
                                              ("province", "1500.00")])
def test_eligible_cost_at_or_below_the_deductible_gets_no_basic_insurance(level: str, deductible: str) -> None:
    at = settle_discharge(level, D(deductible), D(deductible), FRESH)
    assert at.basic_insurance == D("0.00")
    below = settle_discharge(level, D(deductible), D(deductible) - D("0.01"), FRESH)
    assert below.basic_insurance == D("0.00")
    one_fen_above = settle_discharge(level, D(deductible) + D("1.00"), D(deductible) + D("1.00"), FRESH)
    assert one_fen_above.basic_insurance == round_fen(D("1.00") * DEFAULT_POLICY.levels[level].rate)


def test_rates_by_level() -> None:
    assert settle_discharge("township", D("1100.00"), D("1100.00"), FRESH).basic_insurance == D("900.00")
    assert settle_discharge("city", D("1800.00"), D("1800.00"), FRESH).basic_insurance == D("750.00")
    assert settle_discharge("province", D("2500.00"), D("2500.00"), FRESH).basic_insurance == D("650.00")


def test_each_step_rounds_half_up_to_the_fen() -> None:
    # (300.03 - 100) × 0.90 = 180.027 → 180.03; base 120.00 stays under the threshold; 120.00 × 0.70 = 84.00
    b = settle_discharge("township", D("300.03"), D("300.03"), FRESH)
    assert b.basic_insurance == D("180.03")
    # (301.05 - 300) × 0.85 = 0.8925 → 0.89; base 300.16 × 0.70 = 210.112 → 210.11
    c = settle_discharge("county", D("301.05"), D("301.05"), FRESH)
    assert (c.basic_insurance, c.critical_illness_insurance, c.medical_assistance) == (
        D("0.89"), D("0.00"), D("210.11"))
    # half a fen rounds up: (300.10 - 300) × 0.85 = 0.085 → 0.09
    assert settle_discharge("county", D("300.10"), D("300.10"), FRESH).basic_insurance == D("0.09")


def test_basic_insurance_cap_reached_exactly() -> None:
    ytd = Accumulators(basic_insurance=D("299000.00"), critical_illness_base=D("5000.00"))
    exactly = settle_discharge("township", D("1211.11"), D("1211.11"), ytd)  # (1211.11-100)×0.9 = 999.999 → 1000.00
    assert exactly.basic_insurance == D("1000.00")
    assert exactly.added_to(ytd).basic_insurance == DEFAULT_POLICY.basic_annual_cap
    beyond = settle_discharge("township", D("5100.00"), D("5100.00"), ytd)
    assert beyond.basic_insurance == D("1000.00")
    full = settle_discharge("township", D("5100.00"), D("5100.00"), replace(ytd, basic_insurance=D("300000.00")))
    assert full.basic_insurance == D("0.00")
    assert full.critical_illness_base == D("5100.00")  # what basic insurance no longer pays moves down the waterfall


def test_critical_illness_cap_reached_exactly() -> None:
    ytd = Accumulators(critical_illness_base=D("400000.00"), critical_illness_insurance=D("299200.00"))
    # base = 1300 - (1300-300)×0.85 = 450.00; 80% = 360.00 fits under the 800.00 left
    fits = settle_discharge("county", D("1300.00"), D("1300.00"), ytd)
    assert fits.critical_illness_insurance == D("360.00")
    # base = 6300 - 5100 = 1200.00; 80% = 960.00, capped at the 800.00 left
    capped = settle_discharge("county", D("6300.00"), D("6300.00"), ytd)
    assert capped.critical_illness_insurance == D("800.00")
    assert capped.added_to(ytd).critical_illness_insurance == DEFAULT_POLICY.critical_illness_annual_cap
    assert capped.medical_assistance == round_fen((D("1200.00") - D("800.00")) * D("0.70"))


def test_medical_assistance_cap_reached_exactly() -> None:
    ytd = Accumulators(critical_illness_base=D("10000.00"), medical_assistance=D("49860.00"))
    # base 1300 - 850 = 450; critical 360; left 90 × 0.70 = 63.00 < 140.00 left
    assert settle_discharge("county", D("1300.00"), D("1300.00"), ytd).medical_assistance == D("63.00")
    # base 3300 - 2550 = 750; critical 600; left 150 × 0.70 = 105.00, exactly the 105.00 left under the cap
    exact_ytd = replace(ytd, medical_assistance=D("49895.00"))
    exact = settle_discharge("county", D("3300.00"), D("3300.00"), exact_ytd)
    assert exact.medical_assistance == D("105.00")
    assert exact.added_to(exact_ytd).medical_assistance == DEFAULT_POLICY.assistance_annual_cap
    over = settle_discharge("county", D("3300.00"), D("3300.00"), replace(ytd, medical_assistance=D("49900.00")))
    assert over.medical_assistance == D("100.00")
    full = settle_discharge("county", D("3300.00"), D("3300.00"), replace(ytd, medical_assistance=D("50000.00")))
    assert full.medical_assistance == D("0.00")


def test_critical_illness_threshold_crossed_within_an_admission() -> None:
    ytd = Accumulators(critical_illness_base=D("2000.00"))
    # base = 10300 - 8500 = 1800.00; 1000.00 of it lies below 3000, 800.00 above → 640.00
    b = settle_discharge("county", D("10300.00"), D("10300.00"), ytd)
    assert b.critical_illness_base == D("1800.00")
    assert b.critical_illness_insurance == D("640.00")


def test_critical_illness_threshold_reached_exactly_pays_nothing() -> None:
    b = settle_discharge("county", D("10300.00"), D("10300.00"), Accumulators(critical_illness_base=D("1200.00")))
    assert b.critical_illness_base == D("1800.00")  # 1200 + 1800 = 3000.00: nothing above the threshold
    assert b.critical_illness_insurance == D("0.00")
    first = settle_discharge("county", D("18300.00"), D("18300.00"), FRESH)  # 18300 - 15300: base exactly 3000.00
    assert (first.critical_illness_base, first.critical_illness_insurance) == (D("3000.00"), D("0.00"))
    # 20 fen more: basic takes 17 of them, the base is 3000.03, and 3 fen above the threshold pay 0.024 → 0.02
    crossing = settle_discharge("county", D("18300.20"), D("18300.20"), FRESH)
    assert (crossing.critical_illness_base, crossing.critical_illness_insurance) == (D("3000.03"), D("0.02"))


def test_self_pay_cap_exactly_reached_needs_no_supplement() -> None:
    # all ineligible: the patient's share is the whole bill, capped at 10%
    b = settle_discharge("county", D("1000.00"), D("0.00"), FRESH)
    assert (b.supplementary, b.patient_pays) == (D("900.00"), D("100.00"))
    # 10% of 100.05 is 10.005 → 10.01 (rounded half-up)
    c = settle_discharge("county", D("100.05"), D("0.00"), FRESH)
    assert c.patient_pays == D("10.01")


def test_policy_values_are_used() -> None:
    policy = replace(DEFAULT_POLICY, assistance_rate=D("0.50"), self_pay_cap_rate=D("0.05"))
    b = settle_discharge("county", D("52000.00"), D("50000.00"), FRESH, policy)
    assert b.medical_assistance == D("1975.50")  # 3951.00 × 0.50
    assert b.patient_pays == D("2600.00")  # 5% of 52000


def test_eligible_above_total_is_refused() -> None:
    with pytest.raises(ValueError):
        settle_discharge("county", D("100.00"), D("100.01"), FRESH)


money = st.decimals(min_value=D("0.00"), max_value=D("2000000.00"), places=2, allow_nan=False,
                    allow_infinity=False)


@st.composite
def bills(draw: st.DrawFn) -> tuple[str, D, D, Accumulators]:
    total = draw(money)
    eligible = draw(st.decimals(min_value=D("0.00"), max_value=total, places=2))
    ytd = Accumulators(
        basic_insurance=draw(st.decimals(min_value=D("0"), max_value=D("300000.00"), places=2)),
        critical_illness_base=draw(st.decimals(min_value=D("0"), max_value=D("800000.00"), places=2)),
        critical_illness_insurance=draw(st.decimals(min_value=D("0"), max_value=D("300000.00"), places=2)),
        medical_assistance=draw(st.decimals(min_value=D("0"), max_value=D("50000.00"), places=2)))
    return draw(st.sampled_from(HOSPITAL_LEVELS)), total, eligible, ytd


@settings(max_examples=500, deadline=None)
@given(bills())
def test_any_bill_is_split_exactly_without_negatives_and_within_the_self_pay_cap(
        bill: tuple[str, D, D, Accumulators]) -> None:
    level, total, eligible, ytd = bill
    b = settle_discharge(level, total, eligible, ytd)
    assert sum(parts(b)) == total
    assert all(p >= 0 for p in parts(b))
    assert all(p == round_fen(p) for p in parts(b))
    assert b.patient_pays <= round_fen(total * D("0.10"))
    after = b.added_to(ytd)
    assert after.basic_insurance <= DEFAULT_POLICY.basic_annual_cap
    assert after.critical_illness_insurance <= DEFAULT_POLICY.critical_illness_annual_cap
    assert after.medical_assistance <= DEFAULT_POLICY.assistance_annual_cap
    assert b.removed_from(after) == ytd


@settings(max_examples=200, deadline=None)
@given(bills(), bills())
def test_a_year_of_admissions_never_exceeds_the_caps(first: tuple[str, D, D, Accumulators],
                                                     second: tuple[str, D, D, Accumulators]) -> None:
    ytd = FRESH
    for level, total, eligible, _ in (first, second):
        b = settle_discharge(level, total, eligible, ytd)
        ytd = b.added_to(ytd)
        assert sum(parts(b)) == total and b.patient_pays <= round_fen(total * D("0.10"))
    assert ytd.medical_assistance <= DEFAULT_POLICY.assistance_annual_cap


def test_the_per_admission_maximum_allows_the_maximum_and_refuses_a_fen_more() -> None:
    assert DEFAULT_POLICY.max_admission_total == Decimal("2000000.00")
    assert not over_admission_maximum(Decimal("2000000.00"), DEFAULT_POLICY)
    assert over_admission_maximum(Decimal("2000000.01"), DEFAULT_POLICY)
    assert over_admission_maximum(Decimal("100.01"), replace(DEFAULT_POLICY, max_admission_total=Decimal("100.00")))
