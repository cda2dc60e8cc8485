"""The officials' tables (migration 0002_officials)."""

import datetime as dt

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, String
from sqlmodel import Field, SQLModel

import fupin_kit.db  # noqa: F401  (naming convention before any table)


class Official(SQLModel, table=True):
    __tablename__ = "official"

    username: str = Field(primary_key=True, max_length=64)
    password_hash: str = Field(max_length=200)  # scrypt, gateway.clients.hash_secret
    role: str = Field(max_length=10)  # viewer | operator
    division_code: str = Field(max_length=12)
    disabled: bool = False
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class OfficialSession(SQLModel, table=True):
    """A login: only the SHA-256 of the cookie's random token is stored."""

    __tablename__ = "official_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(sa_column=Column(String(64), ForeignKey("official.username"), nullable=False))
    created_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    expires_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: dt.datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class LoginFailure(SQLModel, table=True):
    __tablename__ = "official_login_failure"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    username: str = Field(max_length=64)
    failed_at: dt.datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
