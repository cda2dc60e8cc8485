"""Town and county sign-off (seed §二) and objections raised during public notice."""

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField
from sqlalchemy import Column, DateTime, ForeignKey, String, func
from sqlmodel import Field, SQLModel

from fupin_kit.text import Text


class VerificationLevel(StrEnum):
    town = "town"
    county = "county"


class ObjectionState(StrEnum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


class Verification(SQLModel, table=True):
    __tablename__ = "verification"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    household_id: uuid.UUID = Field(sa_column=Column(ForeignKey("household.id"), nullable=False, index=True))
    level: VerificationLevel = Field(sa_column=Column(String(8), nullable=False))
    approved: bool
    officer: str
    note: str | None = None
    actor: str
    # stamped by the database on INSERT (server default): None only until the flush
    at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class Objection(SQLModel, table=True):
    __tablename__ = "objection"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    household_id: uuid.UUID = Field(sa_column=Column(ForeignKey("household.id"), nullable=False, index=True))
    reason: str
    state: ObjectionState = Field(sa_column=Column(String(10), nullable=False))
    filed_by: str
    filed_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))
    resolution_note: str | None = None
    resolved_by: str | None = None
    resolved_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerificationIn(Strict):
    level: VerificationLevel
    approved: bool
    officer: Text = PField(min_length=1, max_length=100)
    note: Text | None = PField(default=None, max_length=2000)


class VerificationPublic(BaseModel):
    verification_id: uuid.UUID
    household_id: uuid.UUID
    level: VerificationLevel
    approved: bool
    officer: str
    note: str | None
    status: str
    at: dt.datetime


class ObjectionIn(Strict):
    reason: Text = PField(min_length=1, max_length=2000)


class ResolutionIn(Strict):
    upheld: bool
    note: Text | None = PField(default=None, max_length=2000)


class ObjectionPublic(BaseModel):
    objection_id: uuid.UUID
    household_id: uuid.UUID
    reason: str
    state: ObjectionState
    filed_by: str
    filed_at: dt.datetime
    resolution_note: str | None
    resolved_by: str | None
    resolved_at: dt.datetime | None
    household_status: str
