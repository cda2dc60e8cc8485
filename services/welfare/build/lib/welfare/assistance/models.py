"""Temporary assistance (临时救助) requests; the grant itself is a benefit (kind temporary_assistance)."""

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from fupin_kit.money import Money
from fupin_kit.text import Text


class TemporaryAssistanceIn(BaseModel):
    household_id: Annotated[Text, Field(min_length=1, max_length=64)]
    amount: Annotated[Money, Field(gt=0)]
    cause: Literal["illness", "disaster", "accident", "education", "other"]
    decided_on: dt.date
