"""Request ids, JSON logs and Prometheus metrics. Logs never carry request bodies."""

import json
import logging
import os
import sys
import time
import traceback
from contextvars import ContextVar
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fupin_kit import telemetry

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode()
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
logger = logging.getLogger("fupin")

HTTP_REQUESTS = Histogram(
    "fupin_http_request_duration_seconds", "HTTP request latency", ["component", "method", "route", "status"])
EVENTS_PUBLISHED = Counter("fupin_events_published_total", "Events published from the outbox", ["component", "topic"])
EVENTS_CONSUMED = Counter(
    "fupin_events_consumed_total", "Events consumed", ["component", "topic", "outcome"])


class JsonFormatter(logging.Formatter):
    """One JSON object per line, written by orjson (a request's line is about a third of the CPU of json.dumps's);
    what orjson refuses (keys that are not strings, integers beyond 64 bits) goes through json.dumps as before."""

    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created), "level": record.levelname, "logger": record.name,
            "message": record.getMessage(), "request_id": request_id_var.get(),
        }
        if trace_id := telemetry.current_trace_id():
            entry["trace_id"] = trace_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = scrubbed_exception(record.exc_info[1])
        try:
            return orjson.dumps(entry, default=str).decode()
        except TypeError:
            return json.dumps(entry, ensure_ascii=False, default=str)

    def _time(self, created: float) -> str:
        """The record's second in UTC, formatted once per second (a log line per request reads the same one)."""
        second = int(created)
        if second != self._second:
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return self._stamp


def scrubbed_exception(exc: BaseException | None) -> str:
    """The traceback's frames and exception classes, without the exceptions' messages: a message may quote a value
    (a database error quotes the row, a validation error the input), and a log must never hold personal data."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    lines: list[str] = []
    for item in reversed(chain):
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(item.__traceback__))
        lines.append(f"{type(item).__module__}.{type(item).__qualname__} (message withheld)\n")
    return "".join(lines).rstrip("\n")


def configure_logging(level: str = "INFO") -> None:
    # What the JSON lines never show is not gathered for each record either (the logging HOWTO's "Optimization"):
    # the caller's file and line (a walk up the stack), the thread's and the process's names.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel("WARNING")


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class RequestContextMiddleware:
    """Gives every request an id (taken from X-Request-ID when present), echoes it, logs and measures the call.
    `edge`: the component callers reach first (the gateway), where a call the caller named with its own X-Request-ID
    is traced whatever the sampling (`fupin_kit.telemetry`)."""

    def __init__(self, app: ASGIApp, component: str, edge: bool = False) -> None:
        self.app = app
        self.component = component
        self.edge = edge
        self._timers: dict[tuple[str, str, int], Any] = {}  # the histogram's child per (method, route, status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(_REQUEST_ID_KEY, b"").decode("latin-1")[:128]
        request_id = incoming or os.urandom(16).hex()  # 32 hex digits like uuid4().hex, at a fifth of its cost
        token = request_id_var.set(request_id)
        server_span = telemetry.start_server_span(headers, scope["method"], scope["path"], request_id,
                                                  named=self.edge and bool(incoming))
        telemetry.tag_request(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_REQUEST_ID_KEY, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            timer = self._timers.get((scope["method"], route, status))
            if timer is None:  # route templates, not paths: a bounded set
                timer = self._timers[(scope["method"], route, status)] = HTTP_REQUESTS.labels(
                    self.component, scope["method"], route, str(status))
            timer.observe(elapsed)
            if route not in ("/healthz", "/readyz", "/metrics"):
                logger.info("request", extra={"fields": {
                    "method": scope["method"], "route": route, "status": status,
                    "duration_ms": round(elapsed * 1000, 1)}})
            if server_span is not None:
                server_span.finish(scope["method"], route, status)
            request_id_var.reset(token)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
