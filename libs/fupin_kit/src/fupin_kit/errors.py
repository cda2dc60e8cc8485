"""One exception hierarchy, rendered as RFC 9457 problem+json by one set of handlers."""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fupin_kit.observability import logger

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """A failure the caller should see: HTTP status, machine-readable code, human detail, extra members."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra


class NotFound(AppError):
    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(404, code, detail, **extra)


class Conflict(AppError):
    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(409, code, detail, **extra)


class Unprocessable(AppError):
    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(422, code, detail, **extra)


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "status": status, "title": HTTPStatus(status).phrase, "detail": detail,
            "code": code, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_errors(field: str, message: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message}]


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    extra = dict(exc.extra)
    headers = extra.pop("headers", None)
    return problem(exc.status, exc.code, exc.detail, headers=headers, **extra)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_name(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
              for e in exc.errors()]
    fields = ", ".join(e["field"] for e in errors)
    return problem(422, "validation_error", f"invalid request: {fields}", errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden",
            413: "payload_too_large"}.get(
        exc.status_code, "http_error")
    return problem(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return problem(500, "internal_error", "an internal error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
