"""The gateway app: OAuth token endpoint and JWKS, the five proxied prefixes, health, metrics, aggregated docs."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from fupin_kit import telemetry
from fupin_kit.app import install_platform
from fupin_kit.auth import TokenVerifier
from fupin_kit.db import Database
from fupin_kit.memory import tune_collector
from fupin_kit.observability import configure_logging
from fupin_kit.platform_metrics import PlatformMetrics
from gateway import asyncapi, audit, docs, oauth, proxy, web
from gateway.audit import AuditWriter
from gateway.clients import ClientRegistry, RateLimit
from gateway.config import COMPONENT, SERVICES, Settings, get_settings
from gateway.proxy import READINESS_TIMEOUT
from gateway.ratelimit import TokenBuckets
from gateway.runtime import Runtime
from gateway.tokens import TokenIssuer
from gateway.upstream import Upstream, build_client


def build_runtime(settings: Settings) -> Runtime:
    clients = settings.clients()
    public_key = settings.jwt_public_key_file.read_text() if settings.jwt_public_key_file else None
    issuer = TokenIssuer(settings.private_key_pem(), issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                         ttl_seconds=settings.token_ttl_seconds, public_key_pem=public_key,
                         previous_public_keys_pem=tuple(p.read_text() for p in settings.jwt_previous_public_key_files))
    per_client = {c.client_id: c.rate_limit for c in clients if c.rate_limit is not None} | settings.rate_limits
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    return Runtime(
        settings=settings, db=db, issuer=issuer, clients=ClientRegistry(clients),
        http=build_client(connect_timeout=settings.upstream_connect_timeout, timeout=settings.upstream_timeout,
                          max_connections=settings.upstream_max_connections),
        client_limits=TokenBuckets(RateLimit(settings.rate_limit_per_second, settings.rate_limit_burst), per_client),
        token_limits=TokenBuckets(RateLimit(settings.token_rate_per_second, settings.token_rate_burst), prefixes={
            "ip:": RateLimit(settings.token_ip_failure_per_second, settings.token_ip_failure_burst)}),
        audit=AuditWriter(db, batch_size=settings.audit_batch_size, flush_seconds=settings.audit_flush_seconds,
                          max_backlog=settings.audit_max_backlog),
        upstream=Upstream(connect_timeout=settings.upstream_connect_timeout, timeout=settings.upstream_timeout,
                          max_connections=settings.upstream_max_connections,
                          per_service=settings.upstream_connections_per_service))


async def _service_status(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """One service's own readiness answer: `{ready, checks}` (not answering is not ready, with no checks)."""
    try:
        answer = await http.get(f"{url}/readyz", timeout=READINESS_TIMEOUT)
        body = answer.json()
        return {"ready": answer.status_code == 200, "checks": body.get("checks", {}) if isinstance(body, dict) else {}}
    except (httpx.HTTPError, ValueError) as exc:
        return {"ready": False, "checks": {}, "error": type(exc).__name__}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        # httpx logs every URL at INFO: paths and query strings stay out of the logs (the audit log has them).
        for noisy in ("httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        rt = build_runtime(settings)
        app.state.runtime = rt
        app.state.platform_metrics = PlatformMetrics(COMPONENT, rt.db, outbox=False)  # its pool on /metrics
        # A loaded key, not the PEM: PyJWT would parse a PEM string again on every request (~40% of a verify).
        app.state.token_verifier = TokenVerifier(rt.issuer.public_key, issuer=settings.jwt_issuer,
                                                 audience=settings.jwt_audience)
        app.state.openapi_cache = docs.OpenApiCache(settings.openapi_cache_seconds)
        rt.audit.start()
        tune_collector()
        try:
            yield
        finally:
            await rt.audit.stop()
            await rt.http.aclose()
            await rt.upstream.aclose()
            await rt.db.dispose()
            telemetry.shutdown()

    # /openapi.json and /docs are the aggregated ones of gateway.docs, not FastAPI's own.
    app = FastAPI(title="Fupin API gateway", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None,
                  **telemetry.fastapi_options(),
                  openapi_tags=[{"name": "oauth", "description": "Client-credentials tokens (contract §0)"}])

    async def readiness() -> dict[str, bool]:
        """Contract §0: the gateway is ready on its own database and signing keys, never on the services (a
        service or broker blip must not take /oauth/token and every other service out of rotation)."""
        rt: Runtime = app.state.runtime
        keys = rt.issuer is not None and rt.issuer.public_key is not None
        return {"database": await rt.db.healthy(), "keys": keys}

    @app.get("/status", tags=["health"], include_in_schema=False)
    async def status() -> dict[str, Any]:
        """The whole stack at a glance (no token): every component's readiness and checks."""
        rt: Runtime = app.state.runtime
        own = await readiness()
        answers = await asyncio.gather(*(_service_status(rt.http, settings.upstream_url(s)) for s in SERVICES))
        components: dict[str, Any] = {COMPONENT: {"ready": all(own.values()), "checks": own}}
        components.update(zip(SERVICES, answers, strict=True))
        return {"components": components, "ready": all(c["ready"] for c in components.values())}

    app.include_router(oauth.router)
    app.include_router(audit.router)  # the auditor's look-up and the chain check (audit:read)
    app.include_router(docs.router)
    app.include_router(asyncapi.router)
    app.add_middleware(proxy.ProxyDispatch, services=SERVICES)  # innermost: after the cookie session, request ids
    web.install(app, services=SERVICES)  # officials' login, cookie sessions and the war map at / (§9)
    app.include_router(proxy.router)
    # request ids, metrics and, when an exporter is configured (fupin_kit.telemetry), the server span of each call;
    # the proxy hop's aiohttp client and the httpx client carry its traceparent to the services (an unsampled call's
    # is added by upstream.request_headers); the edge: a call its caller named (X-Request-Id) is traced
    install_platform(app, component=COMPONENT, readiness=readiness, required=("database", "keys"), edge=True)
    return app


app = create_app()
