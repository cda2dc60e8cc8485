"""Paired units (帮扶单位), their villages, village work teams (驻村工作队), members and attendance."""

import datetime as dt

from sqlalchemy import Column, DateTime, Index, func, text
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)


class Unit(SQLModel, table=True):
    __tablename__ = "units"

    unit_id: str = Field(primary_key=True)
    name: str
    kind: str
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), nullable=False))


class VillagePairing(SQLModel, table=True):
    __tablename__ = "village_pairings"
    __table_args__ = (Index("uq_village_pairings_active_village", "village_code", unique=True,
                            postgresql_where=text("status = 'active'")),)

    village_pairing_id: str = Field(primary_key=True)
    unit_id: str = Field(index=True)
    village_code: str = Field(index=True)
    starts_on: dt.date
    status: str = "active"  # active | ended
    ended_on: dt.date | None = None
    reason: str | None = None


class Team(SQLModel, table=True):
    __tablename__ = "teams"
    __table_args__ = (Index("uq_teams_active_village", "village_code", unique=True,
                            postgresql_where=text("status = 'active'")),)

    team_id: str = Field(primary_key=True)
    village_code: str = Field(index=True)
    unit_id: str
    formed_on: dt.date
    status: str = "active"  # active | withdrawn
    withdrawn_on: dt.date | None = None
    withdrawal_reason: str | None = None


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_members"

    team_member_id: str = Field(primary_key=True)
    team_id: str = Field(index=True)
    name: str
    role: str
    background: str
    joined_on: dt.date
    status: str = "active"  # active | left
    left_on: dt.date | None = None


class Attendance(SQLModel, table=True):
    __tablename__ = "attendance"

    team_member_id: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    days_present: int
    updated_at: dt.datetime | None = Field(default=None, sa_column=Column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False))
