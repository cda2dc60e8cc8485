"""The service app factory: lifespan (database, token verifier, Kafka), health, metrics, errors, middlewares."""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response

from fupin_kit.auth import TokenVerifier
from fupin_kit.db import Database
from fupin_kit.errors import install_error_handlers, problem
from fupin_kit.events.consumer import Handler
from fupin_kit.idempotency import IdempotencyMiddleware
from fupin_kit.kafka import KafkaRuntime
from fupin_kit.observability import RequestContextMiddleware, configure_logging, metrics_response
from fupin_kit.settings import ServiceSettings

ReadinessCheck = Callable[[], Awaitable[dict[str, bool]]]


def install_platform(app: FastAPI, *, component: str, readiness: ReadinessCheck) -> None:
    """Health, readiness, metrics, problem+json errors and request ids for any Fupin app."""
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, component=component)

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "component": component}

    @app.get("/readyz", tags=["health"], include_in_schema=False)
    async def readyz() -> Response:
        checks = await readiness()
        if all(checks.values()):
            return JSONResponse({"status": "ready", "component": component, "checks": checks})
        failing = ", ".join(name for name, ok in checks.items() if not ok)
        return problem(503, "not_ready", f"{component} is not ready: {failing}", checks=checks)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return metrics_response()


def create_service_app(*, component: str, title: str, settings: ServiceSettings, routers: Sequence[APIRouter],
                       handlers: Mapping[str, Handler] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        kafka = KafkaRuntime(db, component=component, bootstrap_servers=settings.kafka_bootstrap_servers,
                             handlers=handlers, group_id=settings.consumer_group or component)
        app.state.db, app.state.kafka, app.state.settings = db, kafka, settings
        app.state.token_verifier = TokenVerifier(
            settings.jwt_public_key(), issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        kafka.start()
        try:
            yield
        finally:
            await kafka.stop()
            await db.dispose()

    app = FastAPI(title=title, lifespan=lifespan, root_path_in_servers=False)

    async def readiness() -> dict[str, bool]:
        try:
            await app.state.db.ping()
            database = True
        except Exception:
            database = False
        return {"database": database, "kafka": await app.state.kafka.ready()}

    for router in routers:
        app.include_router(router)
    app.add_middleware(IdempotencyMiddleware)
    install_platform(app, component=component, readiness=readiness)
    return app
