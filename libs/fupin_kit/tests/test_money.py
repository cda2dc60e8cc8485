from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from fupin_kit.money import Money, round_fen


class Body(BaseModel):
    amount: Money


@pytest.mark.parametrize("given,expected", [("750", "750.00"), (750, "750.00"), ("0.1", "0.10"), (12.5, "12.50")])
def test_amounts_serialise_with_two_places(given: object, expected: str) -> None:
    assert Body(amount=given).model_dump(mode="json") == {"amount": expected}


@pytest.mark.parametrize("bad", ["1.005", "-1", "abc", True, None, "NaN", "Infinity", "1e12", "1e30", 1e30,
                                 "99999999999999999999999999999", "-1e30"])
def test_bad_amounts_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        Body(amount=bad)


def test_round_fen_is_half_up() -> None:
    assert round_fen(Decimal("2765.705")) == Decimal("2765.71")
    assert round_fen(Decimal("2765.7049")) == Decimal("2765.70")


def test_the_largest_amount_the_books_hold_is_accepted() -> None:
    assert Body(amount="999999999999.99").model_dump(mode="json") == {"amount": "999999999999.99"}


# --- the decimal field factory ----------------------------------------------------------------------------------------

from typing import Annotated  # noqa: E402

from fupin_kit.money import decimal, render_decimal  # noqa: E402

Percent = Annotated[Decimal, decimal(places=4, ge=0, le=100, shown="min2", invalid="must be a percentage",
                                     out_of_range="must be between 0 and 100")]
Share = Annotated[Decimal, decimal(places=4, ge=0, le=1, max_digits=5, shown="fixed", shown_places=2)]
Fraction = Annotated[Decimal, decimal(places=4, ge=0, le=1, shown="normal", invalid="must be a fraction")]


class Rates(BaseModel):
    percent: Percent = Decimal("4.35")
    share: Share = Decimal("0.40")
    fraction: Fraction = Decimal("0.85")


@pytest.mark.parametrize("value,shown,places,text", [
    (Decimal("4.3500"), "min2", 4, "4.35"), (Decimal("6"), "min2", 4, "6.00"), (Decimal("3.915"), "min2", 4, "3.915"),
    (Decimal("100"), "min2", 4, "100.00"), (Decimal("0"), "min2", 4, "0.00"), (Decimal("0.03"), "fixed", 4, "0.0300"),
    (Decimal("1.5"), "fixed", 2, "1.50"), (Decimal("0.8500"), "normal", 4, "0.85"),
    (Decimal("1.0000"), "normal", 4, "1"),
])
def test_decimals_render_as_each_field_says(value: Decimal, shown: str, places: int, text: str) -> None:
    assert render_decimal(value, shown, places) == text  # type: ignore[arg-type]


def test_decimal_fields_take_strings_or_numbers_and_answer_strings() -> None:
    assert Rates(percent=4.35, share="0.4", fraction="0.9").model_dump(mode="json") == {
        "percent": "4.35", "share": "0.40", "fraction": "0.9"}


@pytest.mark.parametrize("field,value,message", [
    ("percent", "100", None), ("percent", "0", None), ("percent", "100.0001", "must be between 0 and 100"),
    ("percent", "-0.0001", "must be between 0 and 100"),
    ("percent", "4.12345", "must have at most four decimal places"),
    ("percent", True, "must be a percentage"), ("percent", "abc", "must be a percentage"),
    ("fraction", "1", None), ("fraction", "1.0001", "must be a fraction"), ("share", "1.0000", None),
    ("share", "1.0001", "less than or equal to 1"), ("share", "0.12345", "no more than 4 decimal places"),
])
def test_decimal_fields_at_their_bounds(field: str, value: object, message: str | None) -> None:
    if message is None:
        Rates.model_validate({field: value})
        return
    with pytest.raises(ValidationError) as caught:
        Rates.model_validate({field: value})
    assert message in caught.value.errors()[0]["msg"]
