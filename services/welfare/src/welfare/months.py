"""Calendar months (`YYYY-MM`) as plain values: parsing, arithmetic, first and last days."""

import calendar
import datetime as dt
import re
from functools import lru_cache

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


@lru_cache(maxsize=4096)
def parse_month(text: str) -> tuple[int, int]:
    if not _MONTH.match(text):
        raise ValueError("must be a month YYYY-MM")
    return int(text[:4]), int(text[5:7])


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@lru_cache(maxsize=4096)
def month_index(month: str) -> int:
    """Months since year 0: consecutive months differ by one."""
    year, number = parse_month(month)
    return year * 12 + number - 1


def month_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(month: str, count: int) -> str:
    return month_from_index(month_index(month) + count)


@lru_cache(maxsize=4096)
def first_day(month: str) -> dt.date:
    year, number = parse_month(month)
    return dt.date(year, number, 1)


@lru_cache(maxsize=4096)
def last_day(month: str) -> dt.date:
    year, number = parse_month(month)
    return dt.date(year, number, calendar.monthrange(year, number)[1])
