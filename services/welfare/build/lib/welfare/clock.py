"""The programme's calendar day: dates in the contract are local dates in China (UTC+8 all year, no DST)."""

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def today() -> dt.date:
    return dt.datetime.now(CHINA).date()
