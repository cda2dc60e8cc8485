"""The day a request is asked on, in China Standard Time (UTC+8, no daylight saving), overridable in tests."""

import datetime as dt
from typing import Annotated

from fastapi import Depends

CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def today() -> dt.date:
    return dt.datetime.now(CHINA_STANDARD_TIME).date()


Today = Annotated[dt.date, Depends(today)]
