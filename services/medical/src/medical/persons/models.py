"""The local read model of registry households (kept by the kit, `fupin_kit.events.households`): one row per
household (ordered by the registry's `sequence`) and one per person (keyed by the pseudonym `person_ref`), the person
carrying the household's status and codes."""

import datetime as dt
import uuid

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from fupin_kit.events.households import HouseholdColumns
from medical.columns import Timestamp, timestamp

REGISTERED_POOR = frozenset({"registered", "exited", "returned"})


class Household(HouseholdColumns, table=True):
    __tablename__ = "households"

    household_id: uuid.UUID = Field(primary_key=True)


class Person(SQLModel, table=True):
    __tablename__ = "persons"

    person_ref: str = Field(primary_key=True)
    household_id: uuid.UUID = Field(index=True)
    household_status: str
    village_code: str
    county_code: str
    member_id: uuid.UUID | None = None  # the registry's (contract v2 §6); no masked number in a read model (v2 §0)
    occurred_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: Timestamp = timestamp()

    @property
    def registered_poor(self) -> bool:
        return self.household_status in REGISTERED_POOR
