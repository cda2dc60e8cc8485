"""What the gateway builds once in its lifespan and every route uses."""

from dataclasses import dataclass, field

import httpx
from anyio import CapacityLimiter
from starlette.requests import Request

from fupin_kit.db import Database
from gateway.audit import AuditWriter
from gateway.clients import ClientRegistry
from gateway.config import Settings
from gateway.ratelimit import TokenBuckets
from gateway.tokens import TokenIssuer
from gateway.upstream import Upstream

SECRET_CHECKS_AT_ONCE = 2


@dataclass
class Runtime:
    settings: Settings
    db: Database
    http: httpx.AsyncClient
    issuer: TokenIssuer
    clients: ClientRegistry
    client_limits: TokenBuckets  # proxied calls, per client id (anonymous public calls: per IP)
    token_limits: TokenBuckets  # /oauth/token, per claimed client id and per IP
    audit: AuditWriter
    upstream: Upstream  # the proxy hop (aiohttp); `http` serves the low-volume calls
    # Client secrets checked at once (scrypt, 16 MiB each, on worker threads): a burst of 40 token requests took the
    # gateway from 132 to 560 MB for good (each thread's allocator keeps its own memory); the cores bound the rate.
    secret_checks: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(SECRET_CHECKS_AT_ONCE))


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def caller_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
