"""The programme's calendar day: dates in the contract are local dates in China (UTC+8 all year, no DST)."""

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def china_date(moment: dt.datetime) -> dt.date:
    """An event's date: its `time` in China Standard Time (contract §7); a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA).date()


def event_time(event: dict) -> dt.datetime:  # type: ignore[type-arg]
    moment = dt.datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
