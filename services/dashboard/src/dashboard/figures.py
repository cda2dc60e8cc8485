"""`GET /dashboard/divisions/{code}` (contract §9): a division's figures and its children's tiles from the tallies."""

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dashboard import rules
from dashboard.models import Division, Tally
from fupin_kit import clock
from fupin_kit.errors import NotFound

# A division of these levels has its own tallies; a city (or any level above a county) sums its children's.
TALLIED = frozenset({"village", "town", "county"})
TILE_METRICS = ("poor_persons", "households.registered", "households.returned")


def not_found(code: str) -> NotFound:
    return NotFound("division_not_found", f"no division with code {code}")


# One statement per page view: the division's chain up to the root (breadcrumbs and the official's subtree check),
# its figures (a division above county level sums its children's tallies plus its own), its children's tiles and
# as_of, each aggregated to JSON by PostgreSQL (no ORM objects, one round trip).
FIGURES = text("""
    WITH RECURSIVE chain AS (
        SELECT code, name, level, parent_code, poor, population, exited, 0 AS depth FROM division WHERE code = :code
        UNION ALL
        SELECT p.code, p.name, p.level, p.parent_code, p.poor, p.population, p.exited, c.depth + 1
        FROM division p JOIN chain c ON p.code = c.parent_code WHERE c.depth < 8
    ), own AS (
        SELECT metric, SUM(value) AS value FROM (
            SELECT t.metric, t.value FROM tally t WHERE t.division_code = :code
            UNION ALL
            SELECT t.metric, t.value FROM division d JOIN tally t ON t.division_code = d.code
            WHERE d.parent_code = :code
              AND (SELECT level FROM chain WHERE depth = 0) NOT IN ('village', 'town', 'county')
        ) parts GROUP BY metric
    ), tiles AS (
        SELECT d.code, d.name, d.level, d.population, d.exited,
               COALESCE(SUM(t.value) FILTER (WHERE t.metric = 'poor_persons'), 0) AS poor,
               COALESCE(SUM(t.value) FILTER (WHERE t.metric = 'households.registered'), 0) AS registered
        FROM division d LEFT JOIN tally t ON t.division_code = d.code
             AND t.metric IN ('poor_persons', 'households.registered')
        WHERE d.parent_code = :code AND EXISTS (SELECT 1 FROM chain) GROUP BY d.code
    )
    SELECT (SELECT json_agg(json_build_array(code, name, level, parent_code, poor, population, exited)
                            ORDER BY depth) FROM chain)::text AS chain,
           (SELECT json_object_agg(metric, value) FROM own)::text AS own,
           (SELECT json_agg(json_build_array(code, name, level, population, exited, poor, registered) ORDER BY code)
            FROM tiles)::text AS tiles,
           (SELECT as_of FROM progress WHERE id = 1) AS as_of""")


@dataclasses.dataclass(frozen=True, slots=True)
class Place:
    """A division as the page needs it (a plain record: building ORM objects cost a third of a page view)."""

    code: str
    name: str | None
    level: str
    parent_code: str | None
    poor: bool
    population: int
    exited: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Found:
    """What the one statement found for a division code."""

    chain: list[Place]  # the division first, then its ancestors up to the root
    own: dict[str, Decimal]
    tiles: list[list[Any]]
    as_of: dt.datetime | None


def _json(value: str | None, default: Any) -> Any:
    """JSON text from PostgreSQL, its numbers as Decimal (money never passes through a float)."""
    return default if value is None else json.loads(value, parse_float=Decimal, parse_int=Decimal)


async def find(session: AsyncSession, code: str) -> Found:
    row = (await (await session.connection()).execute(FIGURES, {"code": code})).one()
    chain = [Place(c, n, lv, p, bool(poor), int(pop), bool(ex))
             for c, n, lv, p, poor, pop, ex in _json(row.chain, [])]
    return Found(chain, _json(row.own, {}), _json(row.tiles, []), row.as_of)


def visible(found: Found, code: str, scope: str | None) -> tuple[Place, list[Place]]:
    """The division and its ancestors the caller may see (top first), if it exists and lies in the subtree of
    `scope` (an official's division; None: everything). Outside the subtree it does not exist for the caller."""
    chain = found.chain
    if not chain:
        raise not_found(code)
    codes = [d.code for d in chain]
    if scope is None:
        return chain[0], chain[1:][::-1]
    if scope not in codes:
        raise not_found(code)
    return chain[0], chain[1:codes.index(scope) + 1][::-1]


async def visible_division(session: AsyncSession, code: str, scope: str | None) -> tuple[Place, list[Place]]:
    return visible(await find(session, code), code, scope)


async def _summed_children(session: AsyncSession, code: str, metrics: Sequence[str] | None = None
                           ) -> dict[str, Decimal]:
    children = select(Division.code).where(Division.parent_code == code)
    query = (select(col(Tally.metric), func.sum(col(Tally.value))).where(col(Tally.division_code).in_(children))
             .group_by(col(Tally.metric)))
    if metrics is not None:
        query = query.where(col(Tally.metric).in_(metrics))
    return {metric: value for metric, value in (await session.exec(query)).all()}


def _int(values: dict[str, Decimal], metric: str) -> int:
    return int(values.get(metric, 0))


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _funds(values: dict[str, Decimal]) -> dict[str, dict[str, str]]:
    programs = list(rules.PROGRAMS) + sorted({m.split(".")[1] for m in values if m.startswith(("funds.", "pending."))}
                                             - set(rules.PROGRAMS))
    out = {}
    for program in programs:
        paid = values.get(f"funds.{program}.paid", Decimal(0))
        if program in rules.WELFARE_PROGRAMS:  # the benefits finance has recorded and neither paid nor reversed
            pending = max(values.get(f"pending.{program}", Decimal(0)), Decimal(0))
        else:
            pending = rules.pending(values.get(f"owed.{program}", Decimal(0)), paid)
        # allocated: finance's funds-allocated events into the programme accounts of the division's jurisdictions
        allocated = values.get(f"funds.{program}.allocated", Decimal(0))
        out[program] = {"allocated": _money(allocated), "paid": _money(paid), "pending": _money(pending)}
    return out


async def _children(session: AsyncSession, tiles: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """The children's tiles (a child above county level sums its own children, a rare case: one query more)."""
    out = []
    for code, name, level, population, exited, poor_value, registered_value in tiles:
        poor, registered = int(poor_value), int(registered_value)
        if level not in TALLIED:
            figures = await _summed_children(session, code, TILE_METRICS)
            poor, registered = _int(figures, "poor_persons"), _int(figures, "households.registered")
        population = int(population)
        out.append({"code": code, "name": name, "level": level,
                    "incidence": _ratio(rules.incidence(poor, population)),
                    "registered_households": registered, "poor_persons": poor, "population": population,
                    "exited": exited, "color": rules.color(poor, population)})
    return out


async def page(session: AsyncSession, code: str, scope: str | None, *, today: dt.date | None = None
               ) -> dict[str, Any]:
    """`GET /dashboard/divisions/{code}` for a caller whose subtree is `scope`: one statement, then formatting."""
    found = await find(session, code)
    division, ancestors = visible(found, code, scope)
    return await division_figures(session, division, ancestors=ancestors, found=found, today=today)


async def division_figures(session: AsyncSession, division: Place, *, ancestors: Sequence[Place] = (),
                           found: Found | None = None, today: dt.date | None = None) -> dict[str, Any]:
    found = found if found is not None else await find(session, division.code)
    year = (today or clock.today()).year
    values = found.own
    poor = _int(values, "poor_persons")
    with_loans, poor_households = _int(values, "loans.households"), _int(values, "poor_households")
    as_of = found.as_of
    return {
        "code": division.code, "name": division.name, "level": division.level, "population": division.population,
        "households": {s: _int(values, f"households.{s}") for s in rules.STATUSES},
        "poor_persons": poor,
        "incidence": _ratio(rules.incidence(poor, division.population)),
        "color": rules.color(poor, division.population),
        "exited": division.exited,
        "exits": {"households_this_year": _int(values, f"exits.households.{year}"),
                  "villages_exited": _int(values, "exits.villages"),
                  "counties_exited": _int(values, "exits.counties") + (1 if division.level == "county"
                                                                        and division.exited
                                                                        and not values.get("exits.counties")
                                                                        else 0)},
        "funds": _funds(values),
        "microcredit": {"loans": _int(values, "loans.count"), "households_with_loans": with_loans,
                        "registered_poor_households": poor_households,
                        "loan_rate": _ratio(rules.rate(with_loans, poor_households)),
                        "outstanding": _money(values.get("loans.outstanding", Decimal(0)))},
        "education": {"grants": _int(values, "grants.count"),
                      "amount": _money(values.get("grants.amount", Decimal(0)))},
        "medical": {"settlements": _int(values, "medical.settlements"),
                    "paid_by_payers": _money(values.get("medical.paid_by_payers", Decimal(0))),
                    "patient_paid": _money(values.get("medical.patient_paid", Decimal(0)))},
        "children": await _children(session, found.tiles),
        "ancestors": [{"code": a.code, "name": a.name, "level": a.level} for a in ancestors],
        "as_of": as_of.isoformat() if as_of else None,
    }
