"""`/registry/healthz` and `/registry/readyz`: the kit's health answers under the service prefix, for a gateway
that forwards `/registry/...` paths unchanged."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fupin_kit.errors import problem
from registry.config import COMPONENT

router = APIRouter(prefix="/registry", include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "component": COMPONENT}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    try:
        await request.app.state.db.ping()
        database = True
    except Exception:
        database = False
    # contract §0: ready when the database is; Kafka is reported, not required (the outbox holds events)
    checks = {"database": database, "kafka": await request.app.state.kafka.ready()}
    if database:
        return JSONResponse({"status": "ready", "component": COMPONENT, "checks": checks})
    return problem(503, "not_ready", f"{COMPONENT} is not ready", checks=checks)
