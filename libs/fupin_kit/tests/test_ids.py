import datetime as dt

import pytest
from stdnum.cn import ric

from fupin_kit.ids import InvalidResidentId, age_on, mask_id_number, mask_name, pseudonym, validate_resident_id

VALID = "11010519491231002X"


def with_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")  # stdnum expects a placeholder check character


def test_valid_number_is_normalised_to_upper_case_x() -> None:
    assert validate_resident_id(VALID.lower()) == VALID


@pytest.mark.parametrize("bad", [
    "11010519491231002",        # 17 characters
    "110105194912310021X",      # 19 characters
    "11010519491231002A",       # last character neither digit nor X
    "110105194912310029",       # wrong check character
    with_check("11010519490231002"),  # 31 February
    with_check("11010521000101002"),  # born in the future
])
def test_invalid_numbers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidResidentId):
        validate_resident_id(bad)


def test_age_counts_completed_years_on_the_day() -> None:
    number = with_check("61072320000615123")
    assert age_on(number, dt.date(2018, 6, 14)) == 17
    assert age_on(number, dt.date(2018, 6, 15)) == 18


def test_masking_keeps_six_and_four() -> None:
    assert mask_id_number("610723199001011234") == "610723********1234"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"


def test_pseudonym_is_keyed_and_stable() -> None:
    assert pseudonym(VALID, "k1") == pseudonym(VALID.lower(), "k1")
    assert pseudonym(VALID, "k1") != pseudonym(VALID, "k2")
    assert VALID not in pseudonym(VALID, "k1")


def test_generated_numbers_validate() -> None:
    assert validate_resident_id(with_check("61072319800517123"))


def test_a_baby_born_today_in_china_is_valid_while_the_utc_date_is_still_yesterday() -> None:
    from fupin_kit import clock

    with clock.frozen(dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)):  # 2027-01-01 00:30 in China
        assert validate_resident_id(with_check("11010520270101001"))
        with pytest.raises(InvalidResidentId):
            validate_resident_id(with_check("11010520270102001"))
