"""Column shapes shared by the medical tables (the kit's NUMERIC factory)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, func
from sqlmodel import Field

from fupin_kit.money import money_column, numeric


def money(**kwargs: Any) -> Any:
    """NUMERIC(14,2) yuan, never float."""
    return money_column(default=Decimal("0.00"), **kwargs)


def rate() -> Any:
    return numeric(5, 4)


def created_at() -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), server_default=func.now(),
                                                nullable=False))


def timestamp() -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True)))


Timestamp = dt.datetime | None


# The kit's Money accepts up to 1e13, more than NUMERIC(14,2) holds: a bill or a cap above this is a 422, not a 500.
MAX_AMOUNT = Decimal("9999999999.99")
# The largest NUMERIC(14,2): the bound of a sum that no cap limits (the yearly critical-illness base).
MAX_TOTAL = Decimal("999999999999.99")
