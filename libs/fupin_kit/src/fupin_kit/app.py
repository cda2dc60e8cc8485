"""The service app factory: lifespan (database, token verifier, Kafka), health, metrics, errors, middlewares."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from fupin_kit import telemetry
from fupin_kit.auth import TokenVerifier
from fupin_kit.db import Database
from fupin_kit.errors import install_error_handlers, problem
from fupin_kit.events.consumer import Handler
from fupin_kit.events.retention import run_pruner
from fupin_kit.idempotency import IdempotencyMiddleware
from fupin_kit.kafka import KafkaRuntime
from fupin_kit.memory import tune_collector
from fupin_kit.observability import RequestContextMiddleware, configure_logging, metrics_response
from fupin_kit.platform_metrics import PlatformMetrics
from fupin_kit.settings import ServiceSettings

# each step of a shutdown is bounded: a process that must stop never waits forever on one of them
SHUTDOWN_SECONDS = 10.0
ReadinessCheck = Callable[[], Awaitable[Mapping[str, Any]]]


def install_platform(app: FastAPI, *, component: str, readiness: ReadinessCheck,
                     required: Sequence[str] | None = None, edge: bool = False) -> None:
    """Health, readiness, metrics, problem+json errors and request ids for any Fupin app.

    `readiness()` returns the checks (name → bool, plus optional non-bool details); the component is ready when
    every check named in `required` holds (all boolean checks when `required` is None). The others are reported
    only (contract §0: Kafka's state does not make a service unready). `edge`: the app callers reach first (the
    gateway; see `RequestContextMiddleware`)."""
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, component=component, edge=edge)
    telemetry.instrument_app(app, component)  # server spans (outermost), when an exporter is configured

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "component": component}

    @app.get("/readyz", tags=["health"], include_in_schema=False)
    async def readyz() -> Response:
        checks = dict(await readiness())
        needed = list(required) if required is not None else [k for k, v in checks.items() if isinstance(v, bool)]
        failing = [name for name in needed if checks.get(name) is not True]
        if not failing:
            return JSONResponse({"status": "ready", "component": component, "checks": checks, "required": needed})
        return problem(503, "not_ready", f"{component} is not ready: {', '.join(failing)}", checks=checks,
                       required=needed)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        # outbox, consumer lag, DLQ depth and pool gauges, refreshed now (bounded; see fupin_kit.platform_metrics)
        gauges: PlatformMetrics | None = getattr(request.app.state, "platform_metrics", None)
        if gauges is not None:
            await gauges.refresh()
        return metrics_response()


def create_service_app(*, component: str, title: str, settings: ServiceSettings, routers: Sequence[APIRouter],
                       handlers: Mapping[str, Handler] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        kafka = KafkaRuntime(db, component=component, bootstrap_servers=settings.kafka_bootstrap_servers,
                             handlers=handlers, group_id=settings.consumer_group or component,
                             topic_prefix=settings.topic_prefix)
        app.state.db, app.state.kafka, app.state.settings = db, kafka, settings
        app.state.platform_metrics = PlatformMetrics(
            component, db, bootstrap_servers=settings.kafka_bootstrap_servers, group_id=kafka.group_id,
            topics=list(handlers or {}), topic_prefix=settings.topic_prefix)
        public_key, jwks_url = settings.token_verifier_keys()
        app.state.token_verifier = TokenVerifier(public_key, jwks_url=jwks_url, issuer=settings.jwt_issuer,
                                                 audience=settings.jwt_audience)
        kafka.start()
        pruner = asyncio.create_task(run_pruner(db, component=component), name=f"{component}-retention")
        tune_collector()
        try:
            yield
        finally:
            pruner.cancel()
            await asyncio.wait([pruner], timeout=SHUTDOWN_SECONDS)
            await kafka.stop(SHUTDOWN_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(app.state.platform_metrics.close(), SHUTDOWN_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(db.dispose(), SHUTDOWN_SECONDS)
            telemetry.shutdown()

    app = FastAPI(title=title, lifespan=lifespan, root_path_in_servers=False, **telemetry.fastapi_options())

    async def readiness() -> dict[str, Any]:
        """Ready when the database answers; Kafka, the consumer and the relay are reported (contract §0)."""
        database = await app.state.db.healthy()
        return {"database": database, **await app.state.kafka.checks()}

    for router in routers:
        app.include_router(router)
    app.add_middleware(IdempotencyMiddleware)
    install_platform(app, component=component, readiness=readiness, required=("database",))
    return app
