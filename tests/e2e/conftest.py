"""End-to-end fixtures: everything goes through the running gateway (`make up` starts the stack)."""

import asyncio
import datetime as dt
import os
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from stdnum.cn import ric

GATEWAY = os.environ.get("FUPIN_GATEWAY_URL", f"http://127.0.0.1:{os.environ.get('FUPIN_GATEWAY_PORT', '8000')}")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
SECRETS = {
    "gov-portal": "gov-portal-dev-secret",
    "bank-demo": "bank-demo-dev-secret",
    "bank-other": "bank-other-dev-secret",
    "his-demo": "his-demo-dev-secret",
    "his-other": "his-other-dev-secret",
    "auditor": "auditor-dev-secret",
}
T = TypeVar("T")
ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9A-Za-z])")


def is_resident_id(text: str) -> bool:
    """An 18-character candidate with a valid MOD 11-2 check character and a real birth date."""
    try:
        return ric.calc_check_digit(text) == text[17] and bool(ric.get_birth_date(text))
    except Exception:  # not a date, not digits
        return False


@dataclass
class Recorded:
    """Every plain ID number the suite sent and every response body it received (the privacy scan reads them)."""

    numbers: set[str] = field(default_factory=set)
    bodies: list[tuple[str, str]] = field(default_factory=list)
    # each service database's transaction id when the suite began: rows written earlier cannot hold its numbers
    horizons: dict[str, int] = field(default_factory=dict)

    def note_numbers(self, text: str) -> None:
        self.numbers.update(n for n in ID_NUMBER.findall(text) if is_resident_id(n))


RECORDED = Recorded()


RATE_LIMIT_RETRIES = 20


def _client_rate_limited(request: httpx.Request, response: httpx.Response) -> bool:
    """A `429 rate_limited` of the per-client request bucket (not a login lock-out or the token endpoint's
    throttle of failed secrets, which tests may want to see)."""
    if response.status_code != 429 or request.url.path in ("/oauth/token", "/auth/login"):
        return False
    try:
        return bool(response.json().get("code") == "rate_limited")
    except ValueError:
        return False


@pytest.fixture(scope="session", autouse=True)
def record_http() -> Iterator[None]:
    """Wrap every httpx.AsyncClient of the suite (the gateway client and the tests' own ones): ID numbers in request
    bodies and every response body are kept for tests/e2e/test_privacy_scan.py."""
    original = httpx.AsyncClient.send

    async def send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        try:
            RECORDED.note_numbers((await request.aread()).decode("utf-8", "replace"))
        except Exception:  # a body that cannot be read again (a generator upload): the scan cannot use it
            pass
        response = await original(self, request, **kwargs)
        for _ in range(RATE_LIMIT_RETRIES):
            if kwargs.get("stream") or not _client_rate_limited(request, response):
                break
            # the gateway's per-client bucket, shared by every suite using the demo clients: the call never reached
            # the service, so it is sent again once the bucket has refilled (as a well-behaved client does)
            await asyncio.sleep(min(float(response.headers.get("Retry-After", "1")), 5.0))
            response = await original(self, request, **kwargs)
        if not kwargs.get("stream"):
            RECORDED.bodies.append((f"{request.method} {request.url.path} {response.status_code}",
                                    response.content.decode("utf-8", "replace")))
        return response

    httpx.AsyncClient.send = send  # type: ignore[method-assign]
    yield
    httpx.AsyncClient.send = original  # type: ignore[method-assign]


def database_urls() -> dict[str, str]:
    """The service databases `fupin-dev env` names, by service: {"registry": "postgresql://…", …}."""
    return {k.removesuffix("_DATABASE_URL").lower(): v.replace("postgresql+asyncpg://", "postgresql://")
            for k, v in os.environ.items() if k.endswith("_DATABASE_URL")}


@pytest.fixture(scope="session", autouse=True)
def database_horizons() -> None:
    """Note each service database's current transaction id before the first test (RECORDED.horizons)."""
    async def note() -> None:
        for name, url in database_urls().items():
            try:
                conn = await asyncpg.connect(url)
            except (OSError, asyncpg.InvalidCatalogNameError):
                continue  # a component not created on this stack
            try:
                RECORDED.horizons[name] = await conn.fetchval("SELECT txid_current()")
            finally:
                await conn.close()

    asyncio.run(note())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The privacy scan runs last, over everything the rest of the suite produced."""
    items.sort(key=lambda item: "test_privacy_scan" in item.nodeid)


def resident_id(region: str, born: dt.date, serial: int | None = None) -> str:
    """A valid 18-character resident ID number (GB 11643) for `region` and `born`."""
    body = f"{region}{born:%Y%m%d}{serial if serial is not None else random.randint(0, 999):03d}"
    number = body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check character
    RECORDED.numbers.add(number)
    return number


@dataclass
class Divisions:
    city: str
    county: str
    town: str
    village: str


async def eventually(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], timeout: float = 30) -> T:
    """Poll `probe` until `accept` holds: events cross services asynchronously."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if accept(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.3)


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=30) as client:
        yield client


_tokens: dict[str, str] = {}


@pytest.fixture(scope="session")
def auth(http: httpx.AsyncClient) -> Callable[[str], Awaitable[dict[str, str]]]:
    async def headers(client_id: str) -> dict[str, str]:
        if client_id not in _tokens:
            answer = await http.post("/oauth/token", data={
                "grant_type": "client_credentials", "client_id": client_id, "client_secret": SECRETS[client_id]})
            assert answer.status_code == 200, answer.text
            _tokens[client_id] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {_tokens[client_id]}"}

    return headers


@pytest.fixture
async def divisions(http: httpx.AsyncClient, auth: Callable[[str], Awaitable[dict[str, str]]]) -> Divisions:
    """A fresh city → county → town → village tree with codes nobody else uses."""
    gov = await auth("gov-portal")
    city = f"{random.randint(71, 89)}{random.randint(10, 99)}00"
    county = city[:4] + f"{random.randint(1, 99):02d}"
    tree = Divisions(city, county, county + f"{random.randint(1, 999):03d}", "")
    tree.village = tree.town + f"{random.randint(1, 999):03d}"
    levels = ((city, "city", None, "测试市"), (county, "county", city, "测试县"),
              (tree.town, "town", county, "测试镇"), (tree.village, "village", tree.town, "测试村"))
    for code, level, parent, name in levels:
        answer = await http.put(f"/registry/divisions/{code}", headers=gov, json={
            "name": name, "level": level, "parent_code": parent, "poor": True, "population": 1000})
        assert answer.status_code in (200, 201), answer.text
    return tree


def household_body(village: str, members: list[dict[str, Any]], income: str = "6000.00") -> dict[str, Any]:
    return {
        "village_code": village, "head_id_number": members[0]["id_number"], "annual_income": income,
        "income_year": 2019, "causes": ["illness"], "low_income_guarantee": False,
        "indicators": {"food_clothing_secure": True, "compulsory_education_ok": True, "basic_medical_ok": True,
                       "housing_safe": True, "drinking_water_safe": True},
        "members": members,
    }


def member(id_number: str, relation: str = "head", **overrides: Any) -> dict[str, Any]:
    return {"id_number": id_number, "name": "王小明", "relation": relation, "health": "healthy",
            "disability_grade": None, "labor": "full", "school_stage": None, "boarding": False, **overrides}


async def register(http: httpx.AsyncClient, gov: dict[str, str], village: str, members: list[dict[str, Any]],
                   *, verify: bool = True) -> str:
    """Identify a household and, unless told not to, have town then county approve it (→ registered)."""
    created = await http.post("/registry/households", headers=gov, json=household_body(village, members))
    assert created.status_code == 201, created.text
    household_id: str = created.json()["household_id"]
    for level in ("town", "county") if verify else ():
        answer = await http.post(f"/registry/households/{household_id}/verifications", headers=gov,
                                 json={"level": level, "approved": True, "officer": level, "note": "e2e"})
        assert answer.status_code in (200, 201), answer.text
    return household_id
