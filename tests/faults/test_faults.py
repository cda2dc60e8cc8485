"""Real faults under load through the gateway of an isolated stack (see conftest.py): PostgreSQL stopped for 15 s,
Kafka paused for 30 s, every service SIGKILLed once, services killed right after a burst (between the relay's
publish and its mark). After each: every effect exactly once (the household in the registry and in the education,
microcredit and medical read models; its child's grant paid once by finance), the ledger balanced, every DLQ empty,
every component ready again with no manual step."""

import asyncio
import datetime as dt
import itertools
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import REPORT, SERVICES, FaultRow
from stdnum.cn import ric

from fupin_dev import components, config, kafka, postgres
from fupin_dev.dlq import count_dead_letters

pytestmark = pytest.mark.usefixtures("isolated_stack")

CONVERGE_SECONDS = 120
SERIAL = itertools.count(1)
FUNDS = "50000000.00"


def resident_id(region: str, born: dt.date, serial: int) -> str:
    body = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


@dataclass
class Load:
    """A client as an operator's portal would be: every write carries an Idempotency-Key and is retried with the
    same key on a network error, a 5xx or a 429, until it gets a definite answer."""

    http: httpx.AsyncClient
    headers: dict[str, str]
    requests: int = 0
    attempts: int = 0
    household_ids: list[str] = field(default_factory=list)

    async def call(self, method: str, path: str, body: dict[str, Any], *, key: str | None = None,
                   accept: tuple[int, ...] = (200, 201)) -> httpx.Response:
        self.requests += 1
        delay, deadline = 0.3, time.monotonic() + 150
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        while True:
            self.attempts += 1
            try:
                answer = await self.http.request(method, path, json=body, headers=headers, timeout=20)
                if answer.status_code < 500 and answer.status_code != 429:
                    assert answer.status_code in accept, f"{method} {path}: {answer.status_code} {answer.text}"
                    return answer
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{method} {path} never answered"
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    async def household(self, village: str, county: str) -> None:
        """Identify, verify (town, county), enrol the child: a registered household with a senior-school grant."""
        n = next(SERIAL)
        head = resident_id(county, dt.date(1960, 1, 1) + dt.timedelta(days=n), 100)
        child = resident_id(county, dt.date(2004, 1, 1) + dt.timedelta(days=n % 360), 500 + n // 360)
        members = [_member(head, "head"), _member(child, "child", labor="none", school_stage="senior")]
        created = await self.call("POST", "/registry/households", {
            "village_code": village, "head_id_number": head, "annual_income": "6000.00", "income_year": 2019,
            "causes": ["illness"], "low_income_guarantee": False, "members": members,
            "indicators": {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
                           "housing_safe": True, "drinking_water_safe": True}}, key=uuid.uuid4().hex, accept=(201,))
        household_id = created.json()["household_id"]
        for level in ("town", "county"):
            await self.call("POST", f"/registry/households/{household_id}/verifications",
                            {"level": level, "approved": True, "officer": level, "note": "faults"},
                            key=uuid.uuid4().hex)
        await self.call("POST", "/education/enrollments", {
            "id_number": child, "school_code": "S-1", "stage": "senior", "grade": "2", "boarding": False,
            "academic_year": "2020-2021"}, key=uuid.uuid4().hex, accept=(201,))
        self.household_ids.append(household_id)


def _member(id_number: str, relation: str, **overrides: Any) -> dict[str, Any]:
    return {"id_number": id_number, "name": "王小明", "relation": relation, "health": "healthy",
            "disability_grade": None, "labor": "full", "school_stage": None, "boarding": False, **overrides}


@dataclass
class City:
    county: str
    town: str
    villages: itertools.count  # type: ignore[type-arg]

    def new_village(self) -> str:
        return f"{self.town}{next(self.villages):03d}"


@pytest.fixture(scope="session")
async def gateway() -> Any:
    async with httpx.AsyncClient(base_url=config.gateway().url, timeout=30) as http:
        token = await http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "gov-portal",
                                                       "client_secret": "gov-portal-dev-secret"})
        assert token.status_code == 200, token.text
        yield http, {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.fixture(scope="session")
async def city(gateway: Any) -> City:
    http, headers = gateway
    load = Load(http, headers)
    tree = City("610725", "610725001", itertools.count(1))
    for code, level, parent in (("610700", "city", None), (tree.county, "county", "610700"),
                                (tree.town, "town", tree.county)):
        await load.call("PUT", f"/registry/divisions/{code}", {"name": f"{level} {code}", "level": level,
                                                               "parent_code": parent, "poor": True,
                                                               "population": 100000})
    fund = await load.call("POST", "/finance/funds", {"jurisdiction_code": tree.county, "year": 2020,
                                                      "source": "central", "purpose": "education_grants",
                                                      "amount": FUNDS}, key=uuid.uuid4().hex, accept=(201,))
    await load.call("POST", "/finance/allocations", {"from_fund_id": fund.json()["fund_id"],
                                                     "program": "education_grants", "amount": FUNDS},
                    key=uuid.uuid4().hex, accept=(201,))
    return tree


async def village_ready(load: Load, city: City) -> str:
    village = city.new_village()
    await load.call("PUT", f"/registry/divisions/{village}", {"name": f"village {village}", "level": "village",
                                                              "parent_code": city.town, "poor": True,
                                                              "population": 1000})
    return village


# ---- effects, counted in each service's own database

def _dsn(db: str) -> str:
    return f"postgresql://postgres@127.0.0.1:{config.pg_port()}/{db}"


EFFECTS: dict[str, tuple[str, str]] = {
    "registry households": ("registry", "SELECT count(*) FROM household WHERE village_code = $1 "
                                        "AND status = 'registered'"),
    "education read model": ("education", "SELECT count(*) FROM household WHERE village_code = $1 "
                                          "AND status = 'registered'"),
    "microcredit read model": ("microcredit", "SELECT count(*) FROM households WHERE village_code = $1 "
                                              "AND status = 'registered'"),
    "medical read model": ("medical", "SELECT count(DISTINCT household_id) FROM persons WHERE village_code = $1 "
                                      "AND household_status = 'registered'"),
    "grants paid": ("finance", "SELECT count(*) FROM payments WHERE village_code = $1 "
                               "AND program = 'education_grants' AND status = 'paid'"),
}
DOUBLES: dict[str, tuple[str, str]] = {
    "registry households": ("registry", "SELECT count(*) - count(DISTINCT m.person_ref) FROM household h "
                                        "JOIN member m ON m.household_id = h.id AND m.relation = 'head' "
                                        "WHERE h.village_code = $1"),
    "grants paid": ("finance", "SELECT count(*) - count(DISTINCT reference) FROM payments WHERE village_code = $1"),
}


async def _count(db: str, sql: str, village: str) -> int:
    conn = await asyncpg.connect(_dsn(db), timeout=5)
    try:
        return int(await conn.fetchval(sql, village))
    finally:
        await conn.close()


async def effects(village: str) -> dict[str, int]:
    return {name: await _count(db, sql, village) for name, (db, sql) in EFFECTS.items()}


async def converge(village: str, households: int) -> dict[str, int]:
    deadline = time.monotonic() + CONVERGE_SECONDS
    while True:
        try:
            found = await effects(village)
            if all(n >= households for n in found.values()) or time.monotonic() > deadline:
                return found
        except (OSError, asyncpg.PostgresError):
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(1)


async def check_phase(fault: str, load: Load, village: str, households: int, http: httpx.AsyncClient,
                      headers: dict[str, str]) -> None:
    found = await converge(village, households)
    doubled = {name: await _count(db, sql, village) for name, (db, sql) in DOUBLES.items()}
    expected = households * len(EFFECTS)
    total = sum(min(n, households) for n in found.values())
    extra = sum(max(0, n - households) for n in found.values()) + sum(doubled.values())
    REPORT.rows.append(FaultRow(fault, load.requests, load.attempts, expected, sum(found.values()),
                                expected - total, extra))
    await components.wait_ready([config.gateway(), *[c for c in config.services() if c.name in SERVICES]],
                                timeout=60)
    status = (await http.get("/status")).json()
    ledger = (await http.get("/finance/ledger/verify", headers=headers)).json()
    dead = {t: n for t, n in (await count_dead_letters(config.kafka_bootstrap())).items() if n}
    assert found == dict.fromkeys(EFFECTS, households), found
    assert not any(doubled.values()), doubled
    assert ledger["balanced"] is True and ledger["negative_balances"] == 0, ledger
    assert dead == {}, dead
    assert all(status["components"][c]["ready"] for c in ("gateway", *SERVICES)), status


async def under_load(load: Load, village: str, city: City, households: int, concurrency: int,
                     fault: Callable[[], Awaitable[None]], fault_after: float) -> None:
    """Run `households` flows (`concurrency` at a time) and inject `fault` `fault_after` seconds in."""
    queue = list(range(households))

    async def worker() -> None:
        while queue:
            queue.pop()
            await load.household(village, city.county)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(fault_after)
    await fault()
    await asyncio.gather(*workers)


def _service(name: str) -> config.Component:
    return next(c for c in config.services() if c.name == name)


def _kill(name: str) -> None:
    pid = components.pid(_service(name))
    assert pid is not None, f"{name} is not running"
    os.kill(pid, signal.SIGKILL)
    while components.pid(_service(name)) is not None:
        time.sleep(0.05)


def _restart(name: str) -> None:
    components.start(_service(name), config.component_env())


# ---- the faults

async def test_postgres_stopped_for_15_seconds(gateway: Any, city: City) -> None:
    http, headers = gateway
    load = Load(http, headers)
    village = await village_ready(load, city)
    pgdata = config.run_dir() / "pgdata"

    async def fault() -> None:
        await asyncio.to_thread(postgres.stop, pgdata)
        await asyncio.sleep(15)
        await asyncio.to_thread(postgres.start, pgdata, config.logs_dir() / "postgres.log", config.pg_port())

    await under_load(load, village, city, households=8, concurrency=4, fault=fault, fault_after=1.5)
    await check_phase("PostgreSQL stopped 15 s", load, village, 8, http, headers)


async def test_kafka_paused_for_30_seconds(gateway: Any, city: City) -> None:
    http, headers = gateway
    load = Load(http, headers)
    village = await village_ready(load, city)
    broker = kafka.pid()
    assert broker is not None

    async def fault() -> None:
        os.kill(broker, signal.SIGSTOP)
        try:
            await asyncio.sleep(10)
            # contract §0: a broker outage takes no component out of rotation
            codes = await components.readyz_codes([config.gateway(), *[_service(s) for s in SERVICES]])
            assert set(codes.values()) == {200}, codes
            await asyncio.sleep(20)
        finally:
            os.kill(broker, signal.SIGCONT)

    await under_load(load, village, city, households=8, concurrency=4, fault=fault, fault_after=1.0)
    await check_phase("Kafka paused 30 s (SIGSTOP)", load, village, 8, http, headers)


async def test_every_service_sigkilled_once_mid_load(gateway: Any, city: City) -> None:
    http, headers = gateway
    load = Load(http, headers)
    village = await village_ready(load, city)

    async def fault() -> None:
        for name in SERVICES:
            _kill(name)
            _restart(name)
            await asyncio.sleep(1.5)

    await under_load(load, village, city, households=10, concurrency=4, fault=fault, fault_after=1.0)
    await check_phase("SIGKILL of each service mid-load", load, village, 10, http, headers)


async def test_kill_between_publish_and_mark(gateway: Any, city: City) -> None:
    """Mid-load, the registry's and education's relays SIGKILL their own process once right after publishing a
    batch and before marking it sent (FUPIN_FAULT_DIR): after the restart the batch is published again and the
    consumers' inboxes drop the second copies."""
    http, headers = gateway
    load = Load(http, headers)
    village = await village_ready(load, city)
    inject = config.run_dir() / "inject"
    inject.mkdir(parents=True, exist_ok=True)

    async def fault() -> None:
        for name in ("registry", "education"):
            (inject / f"{name}.kill-after-publish").touch()
        pending = ["registry", "education"]
        deadline = time.monotonic() + 60
        while pending:
            assert time.monotonic() < deadline, f"{pending} did not publish anything"
            for name in list(pending):
                if components.pid(_service(name)) is None:
                    assert not (inject / f"{name}.kill-after-publish").exists()
                    _restart(name)
                    pending.remove(name)
            await asyncio.sleep(0.1)

    # armed from the start: on a fast machine ten households can all be registered within the first seconds,
    # and a relay that publishes nothing after the marker appears would never kill itself
    await under_load(load, village, city, households=10, concurrency=5, fault=fault, fault_after=0.0)
    await check_phase("relay killed between publish and mark", load, village, 10, http, headers)
