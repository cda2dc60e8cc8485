"""Cookie sessions on the proxied routes: a request that carries the session cookie and no bearer token is forwarded
with a short-lived JWT minted here for the official (their role's scopes and a `division` claim), so services verify
one signature and never trust a header a caller could set. State-changing cookie calls need `X-Requested-With: fupin`
(a cross-site form cannot set it), else `403 forbidden`."""

import functools
import time
import uuid
from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from starlette.types import ASGIApp, Receive, Scope, Send

from fupin_kit.errors import problem
from gateway.officials import rules, service
from gateway.runtime import Runtime

COOKIE = "fupin_session"
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "fupin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_TTL_SECONDS = 300


def session_cookie(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"cookie":
            try:
                jar: SimpleCookie = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                continue
            if COOKIE in jar and jar[COOKIE].value:
                return jar[COOKIE].value
    return None


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def csrf_ok(method: str, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return method in SAFE_METHODS or (header(headers, CSRF_HEADER.encode()) or "").lower() == CSRF_VALUE


@functools.cache
def _signing_key(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), password=None)


def mint(rt: Runtime, who: service.Identity) -> str:
    now = int(time.time())
    claims = {"iss": rt.settings.jwt_issuer, "aud": rt.settings.jwt_audience, "sub": f"official:{who.username}",
              "scope": " ".join(sorted(rules.scopes_for(who.role))), "division": who.division_code,
              "iat": now, "exp": now + TOKEN_TTL_SECONDS, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, _signing_key(rt.settings.private_key_pem()), algorithm="RS256",
                      headers={"kid": rt.issuer.kid})


class OfficialSessionMiddleware:
    """Turns the session cookie into a bearer token on the service prefixes (`/registry/...`, `/dashboard/...`)."""

    def __init__(self, app: ASGIApp, prefixes: Iterable[str]) -> None:
        self.app = app
        self.prefixes = tuple(f"/{p}/" for p in prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        token = session_cookie(headers)
        if token is None or header(headers, b"authorization") is not None:
            await self.app(scope, receive, send)  # a bearer token wins; no cookie: the proxy decides
            return
        if not csrf_ok(scope["method"], headers):
            response = problem(403, "forbidden", "a state-changing call with the session cookie needs the header "
                                                 "X-Requested-With: fupin")
            await response(scope, receive, send)
            return
        rt: Runtime = scope["app"].state.runtime
        async with rt.db.session() as db:
            who = await service.identity(db, token)
        kept = [(k, v) for k, v in headers if k not in (b"cookie", b"authorization")]
        if who is not None:
            kept.append((b"authorization", f"Bearer {mint(rt, who)}".encode()))
        await self.app({**scope, "headers": kept}, receive, send)
