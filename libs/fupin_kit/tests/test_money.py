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
