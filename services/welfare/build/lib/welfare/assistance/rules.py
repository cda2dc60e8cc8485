"""Temporary assistance (临时救助): the yearly cap per household."""

from decimal import Decimal

ZERO = Decimal("0.00")


def available_under_cap(cap: Decimal, year_total: Decimal) -> Decimal:
    """What may still be granted this calendar year."""
    return max(ZERO, cap - year_total)


def within_cap(amount: Decimal, cap: Decimal, year_total: Decimal) -> bool:
    return amount <= available_under_cap(cap, year_total)
