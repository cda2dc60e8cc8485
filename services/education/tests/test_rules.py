"""Pure rules at their boundaries, without a database."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from education.academic_years import academic_year_on, is_academic_year
from education.dropouts.rules import school_age, village_prefix
from education.grants.rules import DEFAULT_POLICY, GrantKind, grants_due
from education.households.rules import is_registered_poor
from education.school_stages import Stage

D = Decimal


@pytest.mark.parametrize(("stage", "boarding", "expected"), [
    (Stage.PRESCHOOL, False, [(GrantKind.PRESCHOOL, D("750.00"))]),
    (Stage.PRESCHOOL, True, [(GrantKind.PRESCHOOL, D("750.00"))]),
    (Stage.PRIMARY, True, [(GrantKind.BOARDING_PRIMARY, D("1000.00"))]),
    (Stage.PRIMARY, False, []),
    (Stage.JUNIOR, True, [(GrantKind.BOARDING_JUNIOR, D("1250.00"))]),
    (Stage.JUNIOR, False, []),
    (Stage.SENIOR, False, [(GrantKind.SENIOR, D("2000.00"))]),
    (Stage.SENIOR, True, [(GrantKind.SENIOR, D("2000.00"))]),
    (Stage.SECONDARY_VOCATIONAL, False,
     [(GrantKind.SECONDARY_VOCATIONAL, D("2000.00")), (GrantKind.VOCATIONAL_ONCE, D("3000.00"))]),
    (Stage.SECONDARY_VOCATIONAL, True,
     [(GrantKind.SECONDARY_VOCATIONAL, D("2000.00")), (GrantKind.VOCATIONAL_ONCE, D("3000.00"))]),
    (Stage.HIGHER_VOCATIONAL, False, [(GrantKind.VOCATIONAL_ONCE, D("3000.00"))]),
    (Stage.HIGHER_VOCATIONAL, True, [(GrantKind.VOCATIONAL_ONCE, D("3000.00"))]),
    (Stage.UNIVERSITY, False, []),
    (Stage.UNIVERSITY, True, []),
])
def test_grants_due_by_stage_and_boarding(stage: Stage, boarding: bool, expected: list) -> None:
    assert grants_due(stage, boarding, DEFAULT_POLICY, had_vocational_once=False) == expected


def test_one_time_grant_is_paid_once_per_person_ever() -> None:
    assert grants_due(Stage.SECONDARY_VOCATIONAL, False, DEFAULT_POLICY, had_vocational_once=True) == [
        (GrantKind.SECONDARY_VOCATIONAL, D("2000.00"))]
    assert grants_due(Stage.HIGHER_VOCATIONAL, False, DEFAULT_POLICY, had_vocational_once=True) == []


def test_only_vocational_stages_earn_the_one_time_grant() -> None:
    for stage in (Stage.PRESCHOOL, Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR, Stage.UNIVERSITY):
        kinds = [kind for kind, _ in grants_due(stage, True, DEFAULT_POLICY, had_vocational_once=False)]
        assert GrantKind.VOCATIONAL_ONCE not in kinds


def test_amounts_come_from_the_years_policy_and_zero_means_no_grant() -> None:
    policy = replace(DEFAULT_POLICY, senior=D("2400.50"), vocational_once=D("0.00"))
    assert grants_due(Stage.SENIOR, False, policy, had_vocational_once=False) == [(GrantKind.SENIOR, D("2400.50"))]
    assert grants_due(Stage.HIGHER_VOCATIONAL, False, policy, had_vocational_once=False) == []


def test_default_policy_is_the_contracts() -> None:
    assert (DEFAULT_POLICY.preschool, DEFAULT_POLICY.boarding_primary, DEFAULT_POLICY.boarding_junior,
            DEFAULT_POLICY.senior, DEFAULT_POLICY.secondary_vocational, DEFAULT_POLICY.vocational_once) == (
        D("750.00"), D("1000.00"), D("1250.00"), D("2000.00"), D("2000.00"), D("3000.00"))


@pytest.mark.parametrize(("value", "valid"), [
    ("2020-2021", True), ("2026-2027", True), ("2020-2022", False), ("2021-2020", False), ("2020-2020", False),
    ("2020/2021", False), ("20-21", False), ("2020-2021 ", False), ("abcd-efgh", False), ("", False),
])
def test_academic_year_format(value: str, valid: bool) -> None:
    assert is_academic_year(value) is valid


@pytest.mark.parametrize(("day", "year"), [
    (dt.date(2026, 11, 28), "2026-2027"),
    (dt.date(2027, 8, 15), "2026-2027"),
    (dt.date(2027, 8, 31), "2026-2027"),
    (dt.date(2027, 9, 1), "2027-2028"),
    (dt.date(2027, 1, 1), "2026-2027"),
    (dt.date(2026, 12, 31), "2026-2027"),
])
def test_current_academic_year_runs_september_to_august(day: dt.date, year: str) -> None:
    assert academic_year_on(day) == year


@pytest.mark.parametrize(("born", "expected"), [
    (dt.date(2020, 11, 28), 6),    # sixth birthday today: included
    (dt.date(2020, 11, 29), None),  # 6 tomorrow: still 5
    (dt.date(2011, 11, 28), 15),   # 15 today: included
    (dt.date(2010, 11, 29), 15),   # 16 tomorrow: still 15
    (dt.date(2010, 11, 28), None),  # 16 today: excluded
    (dt.date(2015, 6, 1), 11),
])
def test_school_age_is_6_to_15_inclusive(born: dt.date, expected: int | None) -> None:
    assert school_age(born, dt.date(2026, 11, 28)) == expected


def test_school_age_of_a_leap_day_child() -> None:
    born = dt.date(2020, 2, 29)
    assert school_age(born, dt.date(2026, 2, 28)) is None
    assert school_age(born, dt.date(2026, 3, 1)) == 6


@pytest.mark.parametrize(("code", "prefix"), [
    ("610723", "610723"), ("610723001", "610723001"), ("610723001002", "610723001002"),
    ("610700", "6107"), ("610000", "61"),
])
def test_village_prefix_of_a_division(code: str, prefix: str) -> None:
    assert village_prefix(code) == prefix


@pytest.mark.parametrize(("status", "poor"), [
    ("registered", True), ("exited", True), ("returned", True),
    ("removed", False), ("identified", False), ("town_verified", False), ("rejected", False),
])
def test_registered_poor_statuses(status: str, poor: bool) -> None:
    assert is_registered_poor(status) is poor
