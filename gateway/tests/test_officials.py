"""Officials (contract §9): login, cookie session, me, logout, the CSRF header rule, lock-out, the session token the
gateway mints for the services (scopes and division claim), the CLI, and the web application's pages."""

import asyncio
import datetime as dt
import io
import uuid
from typing import Any

import jwt
import pytest
from conftest import PUBLIC_KEY

from gateway.officials import rules

HEADERS = {"X-Requested-With": "fupin"}


def test_lockout_boundaries() -> None:
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    minute = dt.timedelta(minutes=1)
    four = [now - i * minute for i in range(4)]
    assert rules.locked_until(four, now) is None
    five = [now - i * minute for i in range(5)]
    assert rules.locked_until(five, now) == now + rules.LOCK_FOR
    assert rules.locked_until(five, now + rules.LOCK_FOR) is None  # the lock lasts 15 minutes
    spread = [now - i * dt.timedelta(minutes=4) for i in range(5)]  # 16 minutes from first to fifth
    assert rules.locked_until(spread, now) is None
    exactly = [now - i * dt.timedelta(minutes=3, seconds=45) for i in range(5)]  # 15 minutes exactly
    assert rules.locked_until(exactly, now) == now + rules.LOCK_FOR
    assert rules.scopes_for("viewer") == {"dashboard:read", "registry:warmap"}
    assert "registry:write" in rules.scopes_for("operator")


async def _official(http: Any, role: str = "viewer", division: str = "610723") -> tuple[str, str]:
    from gateway.officials import service

    username, password = f"o-{uuid.uuid4().hex[:10]}", "a-long-test-password"
    async with http.app.state.runtime.db.session() as db:
        assert await service.create(db, username=username, password=password, role=role, division_code=division)
    return username, password


async def test_demo_official_logs_in_and_out(gateway: Any) -> None:
    answer = await gateway.post("/auth/login", json={"username": "county-viewer",
                                                     "password": "county-viewer-dev-password"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"username": "county-viewer", "division_code": "610723", "role": "viewer"}
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=28800" in cookie
    assert "secure" not in cookie  # dev profile
    assert (await gateway.get("/auth/me")).json()["username"] == "county-viewer"
    refused = await gateway.post("/auth/logout")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert (await gateway.post("/auth/logout", headers=HEADERS)).status_code == 204
    gateway.cookies.clear()
    assert (await gateway.get("/auth/me")).status_code == 401


async def test_secure_cookie_outside_dev(gateway_with: Any) -> None:
    async with gateway_with(profile="test") as http:
        username, password = await _official(http)
        answer = await http.post("/auth/login", json={"username": username, "password": password})
        assert answer.status_code == 200 and "secure" in answer.headers["set-cookie"].lower()
        # no demo officials outside dev
        demo = await http.post("/auth/login", json={"username": "city-admin", "password": "city-admin-dev-password"})
        assert demo.status_code in (200, 401)  # the shared test database may hold them from a dev-profile test


async def test_bad_credentials_and_lockout(gateway: Any) -> None:
    username, password = await _official(gateway)
    for _ in range(4):
        answer = await gateway.post("/auth/login", json={"username": username, "password": "wrong-password"})
        assert answer.status_code == 401 and answer.json()["code"] == "invalid_credentials"
    assert (await gateway.post("/auth/login", json={"username": username, "password": password})).status_code == 200
    for _ in range(5):  # a success resets the count: five new failures lock
        await gateway.post("/auth/login", json={"username": username, "password": "wrong-password"})
    locked = await gateway.post("/auth/login", json={"username": username, "password": password})
    assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"
    assert 800 < int(locked.headers["retry-after"]) <= 900
    unknown = await gateway.post("/auth/login", json={"username": "nobody-" + uuid.uuid4().hex, "password": "x"})
    assert unknown.status_code == 401 and unknown.json()["code"] == "invalid_credentials"
    assert (await gateway.post("/auth/login", json={"username": username})).status_code == 422


async def test_cookie_calls_reach_services_with_a_minted_token(gateway_with: Any, echo: Any) -> None:
    async with gateway_with(dashboard_url=echo.url) as http:
        username, password = await _official(http, role="operator", division="610723101")
        assert (await http.post("/auth/login", json={"username": username, "password": password})).status_code == 200
        seen = (await http.get("/dashboard/divisions/610723101")).json()
        assert "cookie" not in seen["headers"]
        scheme, _, token = seen["headers"]["authorization"].partition(" ")
        claims = jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"], audience="fupin")
        assert scheme == "Bearer" and claims["division"] == "610723101" and claims["sub"] == f"official:{username}"
        assert set(claims["scope"].split()) == set(rules.OPERATOR_SCOPES)
        assert claims["exp"] - claims["iat"] <= 300
        refused = await http.post("/registry/households", json={})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert (await http.post("/registry/households", json={}, headers=HEADERS)).status_code == 200
        # a viewer has no finance scope: the gateway refuses before any service
        assert (await http.get("/finance/budgets")).status_code == 403
        # a bearer token wins over the cookie; without any, 401
        await http.post("/auth/logout", headers=HEADERS)
        assert (await http.get("/dashboard/divisions/610723101")).status_code == 401


async def test_disabled_official_and_cli(gateway: Any, database_url: str, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.config import get_settings
    from gateway.officials import cli

    monkeypatch.setenv("GATEWAY_DATABASE_URL", database_url)
    get_settings.cache_clear()
    username = f"cli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-cli-password\n"))
    create = ["create", username, "--role", "viewer", "--division", "610723", "--password-stdin"]
    assert await asyncio.to_thread(cli.main, create) == 0
    login = {"username": username, "password": "a-long-cli-password"}
    assert (await gateway.post("/auth/login", json=login)).status_code == 200
    assert await asyncio.to_thread(cli.main, ["disable", username]) == 0
    assert (await gateway.get("/auth/me")).status_code == 401  # disabling ends the sessions
    assert (await gateway.post("/auth/login", json=login)).status_code == 401
    assert await asyncio.to_thread(cli.main, ["enable", username]) == 0
    assert await asyncio.to_thread(cli.main, ["list"]) == 0 and username in capsys.readouterr().out
    bad = ["create", "bad", "--role", "viewer", "--division", "12x", "--password-stdin"]
    assert await asyncio.to_thread(cli.main, bad) == 2
    get_settings.cache_clear()


async def test_web_app_and_vendored_swagger(gateway: Any) -> None:
    page = await gateway.get("/")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from another origin
    script = await gateway.get("/app/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "https://" not in script.text and "http://" not in script.text.replace("http://www.w3.org/2000/svg", "")
    assert (await gateway.get("/app/../main.py")).status_code == 404
    docs = await gateway.get("/docs")
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    bundle = await gateway.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


async def test_vendored_redoc_beside_docs(gateway: Any) -> None:
    page = await gateway.get("/redoc")
    assert page.status_code == 200 and '<redoc spec-url="/openapi.json"' in page.text
    assert '<script src="/redoc/assets/redoc.standalone.js">' in page.text
    assert "http" not in page.text  # nothing from another origin, and no inline script
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy and "https:" not in policy
    bundle = await gateway.get("/redoc/assets/redoc.standalone.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 500_000 and b'"2.5.4"' in bundle.content
    assert b"cdn.redoc.ly" not in bundle.content  # its footer logo points at our own icon
    licence = await gateway.get("/redoc/assets/redoc.LICENSE")
    assert licence.status_code == 200 and "MIT License" in licence.text
    assert (await gateway.get("/redoc/assets/redoc.standalone.js.LICENSE.txt")).status_code == 200
    for name in ("app.js", "..%2Fdocs.py", "redoc.standalone.js.map"):
        assert (await gateway.get(f"/redoc/assets/{name}")).status_code == 404


async def test_expired_sessions_and_old_failures_are_deleted_at_login(gateway: Any) -> None:
    from sqlalchemy import func, select

    from gateway.officials import service
    from gateway.officials.models import LoginFailure, OfficialSession

    username, password = await _official(gateway)
    other, other_password = await _official(gateway)
    now = dt.datetime.now(dt.UTC)
    async with gateway.app.state.runtime.db.session() as db:
        db.add(OfficialSession(token_hash=service.token_hash(uuid.uuid4().hex), username=other,
                               created_at=now - dt.timedelta(hours=9), expires_at=now - dt.timedelta(hours=1)))
        db.add(OfficialSession(token_hash=service.token_hash(uuid.uuid4().hex), username=other,
                               created_at=now - dt.timedelta(hours=1), expires_at=now + dt.timedelta(hours=7),
                               ended_at=now - dt.timedelta(minutes=5)))
        db.add(LoginFailure(username=other, failed_at=now - dt.timedelta(minutes=31)))
        db.add(LoginFailure(username=other, failed_at=now - dt.timedelta(minutes=1)))
        await db.commit()
    assert (await gateway.post("/auth/login", json={"username": username, "password": password})).status_code == 200

    async with gateway.app.state.runtime.db.session() as db:
        expired = (await db.exec(select(func.count()).select_from(OfficialSession).where(
            OfficialSession.expires_at <= now))).one()
        kept = (await db.exec(select(func.count()).select_from(OfficialSession).where(
            OfficialSession.username == other))).one()
        failures = (await db.exec(select(LoginFailure.failed_at).where(LoginFailure.username == other))).all()
    assert expired[0] == 0
    assert kept[0] == 1  # logged out but not yet expired: kept until it expires
    assert [f[0] for f in failures] == [now - dt.timedelta(minutes=1)]  # a recent failure still counts
    assert (await gateway.post("/auth/login", json={"username": other, "password": other_password})).status_code == 200
