"""Officials and sessions in the gateway's database."""

import asyncio
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.clients import hash_secret, verify_secret
from gateway.officials import rules
from gateway.officials.models import LoginFailure, Official, OfficialSession

# Compared against when the username is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = hash_secret("not-a-password", salt=b"fupin-dummy-salt")


@dataclass(frozen=True)
class Identity:
    username: str
    role: str
    division_code: str

    def body(self) -> dict[str, str]:
        return {"username": self.username, "division_code": self.division_code, "role": self.role}


class Locked(Exception):
    def __init__(self, until: dt.datetime) -> None:
        self.until = until


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _failures(session: AsyncSession, username: str, now: dt.datetime) -> list[dt.datetime]:
    since = now - rules.FAILURE_WINDOW - rules.LOCK_FOR
    rows = await session.exec(select(LoginFailure.failed_at).where(
        LoginFailure.username == username, col(LoginFailure.failed_at) >= since))
    return list(rows.all())


async def login(session: AsyncSession, *, username: str, password: str) -> tuple[Identity, str] | None:
    """The identity and a new session token, None for bad credentials; `Locked` while the account is locked."""
    now = dt.datetime.now(dt.UTC)
    if until := rules.locked_until(await _failures(session, username, now), now):
        raise Locked(until)
    official = await session.get(Official, username)
    stored = official.password_hash if official is not None else _DUMMY_HASH
    valid = await asyncio.to_thread(verify_secret, password, stored)  # scrypt: off the event loop
    if official is None or official.disabled or not valid:
        session.add(LoginFailure(username=username, failed_at=now))
        await session.commit()
        return None
    await session.exec(delete(LoginFailure).where(col(LoginFailure.username) == username))  # type: ignore[call-overload]
    await prune(session, now)
    token = secrets.token_urlsafe(32)
    session.add(OfficialSession(token_hash=token_hash(token), username=username, created_at=now,
                                expires_at=now + rules.SESSION_LIFETIME))
    await session.commit()
    return Identity(official.username, official.role, official.division_code), token


async def prune(session: AsyncSession, now: dt.datetime) -> None:
    """Forget what can no longer matter (run at each successful login, in its transaction): sessions past their
    expiry (ended or not: a logout only ends one early) and login failures older than any lock-out looks back."""
    await session.exec(delete(OfficialSession).where(col(OfficialSession.expires_at) <= now))  # type: ignore[call-overload]
    await session.exec(delete(LoginFailure).where(  # type: ignore[call-overload]
        col(LoginFailure.failed_at) < now - rules.FAILURE_WINDOW - rules.LOCK_FOR))


async def identity(session: AsyncSession, token: str) -> Identity | None:
    """The official of a live session (not ended, not expired, account not disabled)."""
    now = dt.datetime.now(dt.UTC)
    row = (await session.exec(
        select(Official).join(OfficialSession, col(OfficialSession.username) == col(Official.username))
        .where(OfficialSession.token_hash == token_hash(token), col(OfficialSession.ended_at).is_(None),
               col(OfficialSession.expires_at) > now, col(Official.disabled).is_(False)))).first()
    return Identity(row.username, row.role, row.division_code) if row is not None else None


async def logout(session: AsyncSession, token: str) -> None:
    await session.exec(update(OfficialSession).where(  # type: ignore[call-overload]
        col(OfficialSession.token_hash) == token_hash(token)).values(ended_at=dt.datetime.now(dt.UTC)))
    await session.commit()


async def create(session: AsyncSession, *, username: str, password: str, role: str, division_code: str,
                 replace: bool = False) -> bool:
    """Create an official (True), or leave an existing one alone (False) unless `replace`."""
    if role not in rules.ROLES:
        raise ValueError(f"role must be one of {', '.join(rules.ROLES)}")
    if not (division_code.isascii() and division_code.isdigit() and len(division_code) in (6, 9, 12)):
        raise ValueError("a division code has 6, 9 or 12 digits")
    values = {"username": username, "password_hash": await asyncio.to_thread(hash_secret, password), "role": role,
              "division_code": division_code, "disabled": False, "created_at": dt.datetime.now(dt.UTC)}
    statement = insert(Official).values(values)
    if replace:
        statement = statement.on_conflict_do_update(
            index_elements=[col(Official.username)],
            set_={k: v for k, v in values.items() if k not in ("username", "created_at")})
    else:
        statement = statement.on_conflict_do_nothing()
    result = await session.exec(statement.returning(col(Official.username)))  # type: ignore[call-overload]
    created = result.first() is not None
    await session.commit()
    return created


async def set_disabled(session: AsyncSession, username: str, disabled: bool) -> bool:
    result = await session.exec(update(Official).where(  # type: ignore[call-overload]
        col(Official.username) == username).values(disabled=disabled).returning(col(Official.username)))
    found = result.first() is not None
    if disabled:
        await session.exec(update(OfficialSession).where(  # type: ignore[call-overload]
            col(OfficialSession.username) == username, col(OfficialSession.ended_at).is_(None))
            .values(ended_at=dt.datetime.now(dt.UTC)))
    await session.commit()
    return found
