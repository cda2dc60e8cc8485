"""The programme's clock: China Standard Time (UTC+8 all year, no daylight saving), one for every service.

Dates in the contract are local dates in China: between 16:00 and 24:00 UTC the date here is a day ahead of the
machine's UTC date, so nothing that means "today" may call `date.today()` or `datetime.now()`.

Tests set the clock one way only: `with frozen(moment):` (or the `set_clock`/`reset_clock` pair it wraps). Every
`today()`/`now()` (and the `Today` dependency) then reads the frozen moment, in the app, its consumers and the test.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends

CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def _system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_source: Callable[[], dt.datetime] = _system_now


def now() -> dt.datetime:
    """The current moment, aware, in China Standard Time."""
    return _source().astimezone(CHINA_STANDARD_TIME)


def utcnow() -> dt.datetime:
    """The current moment, aware, in UTC (for timestamps stored or sent as UTC)."""
    return _source().astimezone(dt.UTC)


def today() -> dt.date:
    """The calendar day in China Standard Time."""
    return now().date()


def china_date(moment: dt.datetime) -> dt.date:
    """A moment's date in China Standard Time; a naive moment is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA_STANDARD_TIME).date()


def event_time(event: dict[str, Any]) -> dt.datetime:
    """An event envelope's `time` as an aware moment (a naive time is taken as UTC)."""
    moment = dt.datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _as_moment(at: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(at, dt.datetime):
        return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(at, dt.time(12), CHINA_STANDARD_TIME)  # a date: noon of that day in China


def set_clock(at: dt.datetime | dt.date | Callable[[], dt.datetime]) -> None:
    """Tests only: stop the clock at `at` (a date is noon of that day in China; a naive time is UTC), or read it
    from a function returning aware moments."""
    global _source
    if callable(at):
        _source = at
    else:
        moment = _as_moment(at)
        _source = lambda: moment  # noqa: E731
    return None


def reset_clock() -> None:
    global _source
    _source = _system_now


@contextmanager
def frozen(at: dt.datetime | dt.date | Callable[[], dt.datetime]) -> Iterator[None]:
    """Tests only: the clock reads `at` inside the block."""
    previous = _source
    set_clock(at)
    try:
        yield
    finally:
        set_clock(previous)


def _today_dependency() -> dt.date:
    return today()


# A route's "today": `day: Today`. Frozen with the clock; not to be overridden separately.
Today = Annotated[dt.date, Depends(_today_dependency)]
