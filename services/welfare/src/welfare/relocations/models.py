"""Relocations (易地扶贫搬迁): planned, moved in (the subsidy paid once), or stopped by a removal."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, func
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import money_column
from fupin_kit.text import Text


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Relocation(SQLModel, table=True):
    __tablename__ = "relocations"

    relocation_id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    household_id: str = SQLField(index=True)
    county_code: str
    village_code: str
    destination_village_code: str
    site_name: str
    planned_year: int
    status: str = "planned"
    moved_in_on: dt.date | None = None
    persons: int | None = None
    subsidy: Decimal | None = money_column(nullable=True)
    benefit_id: uuid.UUID | None = None
    created_at: dt.datetime = SQLField(
        default_factory=now, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


class RelocationIn(BaseModel):
    household_id: Annotated[Text, Field(min_length=1, max_length=64)]
    destination_village_code: str = Field(pattern=r"^\d{12}$")
    site_name: Annotated[Text, Field(min_length=1, max_length=200)]
    planned_year: int = Field(ge=2000, le=2100)


class MoveInIn(BaseModel):
    moved_in_on: dt.date


def relocation_out(r: Relocation) -> dict[str, Any]:
    return {"relocation_id": str(r.relocation_id), "household_id": r.household_id, "county_code": r.county_code,
            "village_code": r.village_code, "destination_village_code": r.destination_village_code,
            "site_name": r.site_name, "planned_year": r.planned_year, "status": r.status,
            "moved_in_on": r.moved_in_on.isoformat() if r.moved_in_on else None, "persons": r.persons,
            "subsidy": f"{r.subsidy:.2f}" if r.subsidy is not None else None,
            "benefit_id": str(r.benefit_id) if r.benefit_id else None}
