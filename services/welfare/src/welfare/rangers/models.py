"""Ranger quotas per county and year, and ranger posts."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Column, DateTime, func
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)
from fupin_kit.money import money_column
from fupin_kit.text import Text


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RangerQuota(SQLModel, table=True):
    __tablename__ = "ranger_quotas"

    county_code: str = SQLField(primary_key=True)
    year: int = SQLField(primary_key=True)
    quota: int
    updated_at: dt.datetime = SQLField(sa_column=Column(DateTime(timezone=True), server_default=func.now(),
                                                        onupdate=func.now(), nullable=False))


class RangerPost(SQLModel, table=True):
    """A post pays 1/12 of the yearly allowance a month (rounded so twelve sum to it) while active in its year."""

    __tablename__ = "ranger_posts"

    post_id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    member_id: str
    person_ref: str = SQLField(index=True)
    household_id: str = SQLField(index=True)
    county_code: str
    village_code: str
    year: int
    appointed_on: dt.date
    age: int
    yearly_allowance: Decimal = money_column()
    status: str = "active"
    ended_on: dt.date | None = None
    end_reason: str | None = None
    created_at: dt.datetime = SQLField(
        default_factory=now, sa_column=Column(DateTime(timezone=True), server_default=func.now(), nullable=False))


class QuotaIn(BaseModel):
    quota: int = Field(ge=0, le=1_000_000)


class PostIn(BaseModel):
    id_number: Annotated[Text, Field(min_length=1, max_length=32)]
    year: int = Field(ge=2000, le=2100)
    appointed_on: dt.date

    @model_validator(mode="after")
    def _within_year(self) -> "PostIn":
        if self.appointed_on.year != self.year:
            raise ValueError("appointed_on must be within year")
        return self


class PostEndIn(BaseModel):
    ended_on: dt.date
    reason: Annotated[Text, Field(min_length=1, max_length=500)]


def post_out(post: RangerPost, status: str | None = None) -> dict[str, Any]:
    return {"post_id": str(post.post_id), "member_id": post.member_id, "age": post.age,
            "household_id": post.household_id, "county_code": post.county_code, "village_code": post.village_code,
            "year": post.year, "appointed_on": post.appointed_on.isoformat(), "status": status or post.status,
            "yearly_allowance": f"{post.yearly_allowance:.2f}",
            "ended_on": post.ended_on.isoformat() if post.ended_on else None, "end_reason": post.end_reason}
