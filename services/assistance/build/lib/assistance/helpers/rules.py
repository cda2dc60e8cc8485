"""Helpers (帮扶责任人): the per-year cap and helper coverage. Pure functions."""

import math
from decimal import Decimal
from fractions import Fraction

STILL_POOR = frozenset({"registered", "returned"})
PLANNABLE = frozenset({"registered", "exited", "returned"})  # "registered poor" (contract §7)


def at_capacity(active_households: int, max_households: int) -> bool:
    """A helper with `max_households` active pairings takes no other household."""
    return active_households >= max_households


def coverage(with_helper: int, still_poor: int) -> Fraction:
    """Still-poor households with a helper / still-poor households; 1 when there are none."""
    return Fraction(1) if still_poor == 0 else Fraction(with_helper, still_poor)


def round_half_up(value: Fraction, places: int) -> Decimal:
    """`value` rounded half-up to `places` decimal places, exactly (no binary or 28-digit intermediate)."""
    scaled = math.floor(value * 10**places + Fraction(1, 2))
    return Decimal(scaled).scaleb(-places)


def four_places(value: Fraction) -> Decimal:
    """A ratio shown to 4 places, rounded half-up."""
    return round_half_up(value, 4)
