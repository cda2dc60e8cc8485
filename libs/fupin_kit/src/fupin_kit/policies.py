"""The year-policy store of every service: one row per year (or academic year) that was set, the shipped defaults
for any other, and one answer shape: the policy with `is_default` (true when no row was set for that year).

A service declares its table with the mixin (`class ProductPolicyRow(YearPolicyRow, table=True)`: the key `year`,
`updated_by` and `updated_at`; or `PolicyStamp` with a key of its own), its policy value (a frozen dataclass) and
the two conversions, and builds one `PolicyStore`:

    store = PolicyStore(ProductPolicyRow, default=lambda year: DEFAULT_POLICY,
                        from_row=lambda row: ProductPolicy(...), to_row=asdict)
    stored = await store.get(session, 2026)          # Stored(key=2026, policy=..., is_default=True)
    stored, created = await store.put(session, 2026, policy, actor=principal.client_id)
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, func, literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

import fupin_kit.db  # noqa: F401  (naming convention before any table)

K = TypeVar("K", int, str)
P = TypeVar("P")


class PolicyStamp(SQLModel):
    """Who set a policy row and when (the store stamps `updated_at` with the database's time on every write)."""

    updated_by: str
    updated_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True), nullable=False,  # type: ignore[call-overload]
                                           sa_column_kwargs={"server_default": func.now()})


class YearPolicyRow(PolicyStamp):
    """A policy row per calendar year."""

    year: int = Field(primary_key=True)


@dataclass(frozen=True)
class Stored(Generic[K, P]):
    """A year's policy in force and whether it is the shipped default (no row set for that year)."""

    key: K
    policy: P
    is_default: bool


class PolicyStore(Generic[K, P]):
    """Reads and upserts the policy of a year in `table`; a year without a row answers `default(year)`."""

    def __init__(self, table: type[SQLModel], *, default: Callable[[K], P], from_row: Callable[[Any], P],
                 to_row: Callable[[P], dict[str, Any]], key: str = "year", actor: str = "updated_by") -> None:
        self.table = table
        self.default: Callable[[K], P] = default
        self.from_row: Callable[[Any], P] = from_row
        self.to_row: Callable[[P], dict[str, Any]] = to_row
        self.key = key
        self.actor = actor

    async def row(self, session: AsyncSession, key: K, *, for_update: bool = False) -> Any:
        """The stored row of `key`, or None."""
        return await session.get(self.table, key, with_for_update=for_update)

    async def get(self, session: AsyncSession, key: K) -> Stored[K, P]:
        row = await self.row(session, key)
        if row is None:
            return Stored(key, self.default(key), True)
        return Stored(key, self.from_row(row), False)

    async def table_of(self, session: AsyncSession) -> Callable[[K], P]:
        """Every stored policy at once (a handful of rows), as a function of the key (defaults for the others)."""
        rows = (await session.exec(select(self.table))).all()
        cache: dict[K, P] = {getattr(row, self.key): self.from_row(row) for row in rows}

        def policy_of(key: K) -> P:
            if key not in cache:
                cache[key] = self.default(key)
            return cache[key]

        return policy_of

    async def put(self, session: AsyncSession, key: K, policy: P, *, actor: str) -> tuple[Stored[K, P], bool]:
        """Create or replace the policy of `key` in one statement; returns it and whether the row was created."""
        values = {**self.to_row(policy), self.actor: actor}
        statement = insert(self.table).values({self.key: key, **values, "updated_at": func.now()})
        statement = statement.on_conflict_do_update(index_elements=[self.key],
                                                    set_={**values, "updated_at": func.now()})
        created = (await session.exec(statement.returning(literal_column("(xmax = 0)")))).scalar_one()
        return Stored(key, policy, False), bool(created)
