"""Traces across HTTP and Kafka (OpenTelemetry), off unless an exporter is configured.

- `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): spans go out over OTLP/HTTP.
- `FUPIN_TRACE_DIR`: spans are appended as JSON lines to `<dir>/<component>.jsonl` (the dev runner sets it for the
  components it starts; `fupin-dev trace REQUEST_ID` prints them as a tree).
- Neither: no tracer provider, no instrumentation; what is left on the request path is one boolean test.
  `OTEL_SDK_DISABLED=true` turns tracing off whatever is configured. Sampling follows the standard
  `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` (default: parent-based, every root span).
- Sampling: a call that does not continue a trace (no `traceparent`) starts one with the probability
  `FUPIN_TRACE_READS` for a GET or HEAD, `FUPIN_TRACE_WRITES` for the other methods (default 0.05 each; 1 traces every
  call); a call in a caller's trace follows the caller's decision (the `traceparent` flags). Tracing every call cost
  more CPU than the call itself (a server span, a span per query, the client span of the gateway's hop, the relay's
  publish span, their export): about half of a settlement's CPU in the gateway and medical.
- A call left out records nothing, its queries and calls included (the instrumentation is suppressed), but it keeps
  an unsampled trace context (flags 00): the gateway forwards it as the `traceparent` of the hop
  (`unsampled_traceparent`) and `enqueue` saves it with the events, so the services, the relay and the consumers
  follow the edge's decision instead of starting traces of their own. A sampled trace is traced whole.
- A request id does not decide in a service (the gateway gives one to every call it forwards); at the edge
  (`RequestContextMiddleware(edge=True)`, the gateway) a call the caller named with its own `X-Request-Id` is traced,
  so that `fupin-dev trace REQUEST_ID` finds it.

What crosses a hop: the W3C `traceparent` header on HTTP (FastAPI, httpx and aiohttp instrumentations), and on Kafka
the outbox row's `traceparent` (saved by `enqueue` in the CloudEvents `traceparent` extension of the envelope), sent
by the relay as a Kafka header from its publish span. A consumer continues the trace with `event_span`.

Spans never carry personal data: HTTP spans name the route template, database spans the parametrised statement
(never its parameters), and exception events keep the exception class only (a message may quote a value).
"""

import contextlib
import functools
import json
import logging
import os
import random
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("fupin.telemetry")

TRACE_DIR_ENV = "FUPIN_TRACE_DIR"
REQUEST_ID_ATTRIBUTE = "fupin.request_id"
TRACEPARENT = "traceparent"
# URLs never traced (FastAPI instrumentation's excluded_urls: comma-separated regular expressions, searched)
EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$,/status$"

READS_ENV = "FUPIN_TRACE_READS"
WRITES_ENV = "FUPIN_TRACE_WRITES"
_READ_METHODS = ("GET", "HEAD")

_propagator = TraceContextTextMapPropagator()
_lock = threading.Lock()
_configured: str | None = None  # the component the process's provider was made for
_enabled = False
_tracer: trace.Tracer = trace.NoOpTracer()


def enabled() -> bool:
    """True when this process records and exports spans."""
    return _enabled


def _exporter_settings() -> tuple[bool, str | None]:
    otlp = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    return otlp, os.environ.get(TRACE_DIR_ENV) or None


def configure(component: str) -> bool:
    """Install the tracer provider and the libraries' instrumentation once per process; returns `enabled()`.

    Never raises: a broken exporter configuration logs a warning and leaves tracing off."""
    global _configured, _enabled, _tracer, _read_ratio, _write_ratio
    with _lock:
        if _configured is not None:
            return _enabled
        _configured = component
        otlp, folder = _exporter_settings()
        if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true" or not (otlp or folder):
            return False
        try:
            _install_provider(component, otlp=otlp, folder=folder)
            _instrument_libraries()
        except Exception as exc:
            log.warning("tracing left off: %s", type(exc).__name__, exc_info=True)
            return False
        _enabled = True
        _tracer = trace.get_tracer("fupin_kit")
        _read_ratio = _ratio(READS_ENV)
        _write_ratio = _ratio(WRITES_ENV)
        return True


_read_ratio = 1.0
_write_ratio = 1.0


def _ratio(variable: str, default: str = "0.05") -> float:
    value = os.environ.get(variable, default)
    try:
        return min(1.0, max(0.0, float(value)))
    except ValueError:
        log.warning("%s=%r is not a probability; every call is traced", variable, value)
        return 1.0


def _install_provider(component: str, *, otlp: bool, folder: str | None) -> None:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": component}), sampler=_sampler())
    exporters: list[SpanExporter] = []
    if otlp:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter())
    if folder:
        from fupin_kit.telemetry_export import JsonLinesExporter

        exporters.append(JsonLinesExporter(Path(folder) / f"{component}.jsonl"))
    from fupin_kit.telemetry_export import ScrubbingExporter

    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(ScrubbingExporter(exporter), schedule_delay_millis=1000))
    trace.set_tracer_provider(provider)


def _sampler() -> Any:
    """Parent-based: a call continues its caller's decision. A new trace starts at a server span or a consumer's,
    with the ratio of `OTEL_TRACES_SAMPLER_ARG` (`traceidratio` samplers; default every one); never at a client
    span without a parent (the relay's polling, a pruner's queries: noise, and a cost)."""
    from opentelemetry.sdk.trace.sampling import (
        Decision,
        ParentBased,
        Sampler,
        SamplingResult,
        TraceIdRatioBased,
    )

    ratio = 1.0
    if os.environ.get("OTEL_TRACES_SAMPLER", "").endswith("traceidratio"):
        with contextlib.suppress(ValueError):
            ratio = min(1.0, max(0.0, float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1"))))

    class NoOrphanClients(Sampler):
        def __init__(self, root: Sampler) -> None:
            self.root = root

        def should_sample(self, parent_context: Any, trace_id: int, name: str, kind: Any = None,
                          attributes: Any = None, links: Any = None, trace_state: Any = None) -> SamplingResult:
            if kind == SpanKind.CLIENT:
                return SamplingResult(Decision.DROP)
            return self.root.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

        def get_description(self) -> str:
            return f"NoOrphanClients{{{self.root.get_description()}}}"

    return ParentBased(root=NoOrphanClients(TraceIdRatioBased(ratio)))


@functools.cache
def queries_in_traces() -> Any:
    """The asyncpg instrumentation, with a query's span only inside a recorded trace (`InTracesOnly`); one per
    process (an instrumentor wraps asyncpg's methods once)."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    class InTracesOnly(AsyncPGInstrumentor):  # type: ignore[misc]
        """A query's span only inside a recorded trace. The sampler drops every other client span anyway
        (`NoOrphanClients` under `ParentBased`), but the instrumentation would first build its name and attributes
        from the statement's text (a regex and a split of the whole text): 60 µs of CPU per query, 130 for a 3 KB
        statement. A request left out of tracing suppresses the instrumentation already (`start_server_span`);
        this spares the work outside any request: the consumers' and the relay's batches, the welfare run."""

        async def _do_execute(self, func: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            if not trace.get_current_span().is_recording():
                return await func(*args, **kwargs)
            return await super()._do_execute(func, instance, args, kwargs)

        async def _do_cursor_execute(self, func: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            if not trace.get_current_span().is_recording():
                return await func(*args, **kwargs)
            return await super()._do_cursor_execute(func, instance, args, kwargs)

        async def _do_prepared_execute(self, func: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            if not trace.get_current_span().is_recording():
                return await func(*args, **kwargs)
            return await super()._do_prepared_execute(func, instance, args, kwargs)

    return InTracesOnly()


def _instrument_libraries() -> None:
    """asyncpg (every query, the ORM's too), httpx and, where installed (the gateway), the aiohttp client."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    if os.environ.get("FUPIN_TRACE_DB", "1") != "0":  # a span per query: FUPIN_TRACE_DB=0 leaves them out
        queries_in_traces().instrument()
    HTTPXClientInstrumentor().instrument()
    with contextlib.suppress(ImportError):
        from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor

        AioHttpClientInstrumentor().instrument()


def instrument_app(app: Any, component: str) -> None:
    """Turn tracing on for an app's process (a provider, the client libraries' instrumentation). Its server spans
    come from `RequestContextMiddleware` (`start_server_span`): a lean span of the route, its status and the request
    id. `FUPIN_TRACE_ASGI=otel` uses the FastAPI instrumentation instead (the full HTTP semantic conventions, at a
    higher cost per request; bench/tracing_overhead.py measures the lean span)."""
    if not configure(component) or os.environ.get("FUPIN_TRACE_ASGI") != "otel":
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    global _asgi_instrumented
    _asgi_instrumented = True
    FastAPIInstrumentor.instrument_app(app, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"])


_asgi_instrumented = False


def fastapi_options() -> dict[str, Any]:
    """Keyword arguments for `FastAPI(...)`: FastAPI's own OpenTelemetry (recent versions start it as soon as a
    tracer provider exists: a span per request and per dependency, endpoint and serialisation, measured at 1.5x
    the lean server span's cost) is off; `RequestContextMiddleware` makes the server span."""
    import inspect

    from fastapi import FastAPI

    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
_UNTRACED_SUFFIXES = ("/healthz", "/readyz", "/metrics")


class ServerSpan:
    """The span of one HTTP call, current while the app handles it (see `start_server_span`); without a span, the
    context that leaves an unsampled call's queries and calls untraced."""

    __slots__ = ("span", "token")

    def __init__(self, span: Span | None, token: object) -> None:
        self.span, self.token = span, token

    def finish(self, method: str, route: str, status: int) -> None:
        span = self.span
        try:
            if span is None:
                return
            if span.is_recording():
                if route != "unmatched":
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            span.end()
        finally:
            otel_context.detach(self.token)  # type: ignore[arg-type]


def start_server_span(headers: Mapping[bytes, bytes], method: str, path: str, request_id: str, *,
                      named: bool = False) -> ServerSpan | None:
    """A server span continuing the caller's `traceparent`, named after the route once it is known; None when
    tracing is off (one test), for health, readiness and metrics, or when the FastAPI instrumentation does it.
    A call left out (the caller's trace is not sampled, or no trace and not drawn by `FUPIN_TRACE_READS` /
    `FUPIN_TRACE_WRITES`; `named`: the caller named the call, trace it) gets no span: an unsampled context is
    current while it runs, with the instrumentation suppressed (no query or client spans either)."""
    if not _enabled or _asgi_instrumented or path.endswith(_UNTRACED_SUFFIXES) or path == "/status":
        return None
    incoming = headers.get(b"traceparent")
    if incoming is not None:
        traced = not _unsampled(incoming)
    else:
        traced = named or random.random() < (_read_ratio if method in _READ_METHODS else _write_ratio)
    if not traced:
        caller = incoming.decode("latin-1") if incoming else None
        return ServerSpan(None, otel_context.attach(_unsampled_context(caller)))
    parent = _context_of(incoming.decode("latin-1")) if incoming else None
    span = _tracer.start_span(method, context=parent, kind=SpanKind.SERVER, attributes={
        "http.request.method": method, "url.path": path, REQUEST_ID_ATTRIBUTE: request_id})
    return ServerSpan(span, otel_context.attach(trace.set_span_in_context(span)))


def _unsampled(traceparent: bytes | str) -> bool:
    """The caller's trace is not recorded (W3C trace flags without the sampled bit): a call in it records nothing
    either, so it need not make spans that are dropped anyway."""
    flags = traceparent.strip()[-2:]
    try:
        return not int(flags, 16) & 1
    except ValueError:
        return False


def _unsampled_context(traceparent: str | None) -> otel_context.Context:
    """The context of a call left out: the caller's unsampled trace, else a new one (random ids, flags 00), with
    the instrumentation suppressed."""
    context = _context_of(traceparent)
    if context is None or not trace.get_current_span(context).get_span_context().is_valid:
        new = SpanContext(trace_id=random.getrandbits(128) or 1, span_id=random.getrandbits(64) or 1,
                          is_remote=False, trace_flags=TraceFlags(TraceFlags.DEFAULT))
        context = trace.set_span_in_context(NonRecordingSpan(new))
    return otel_context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True, context)


def unsampled_traceparent() -> str | None:
    """The `traceparent` (flags 00) to send on a call made while the current call is left out: the client
    libraries' instrumentation is suppressed then and adds none (None when tracing is off or the call is traced)."""
    if not _enabled or not otel_context.get_value(_SUPPRESS_INSTRUMENTATION_KEY):
        return None
    return current_traceparent()


def tag_request(request_id: str) -> None:
    """Name the request id (X-Request-Id) on the current server span (the FastAPI instrumentation's)."""
    if _asgi_instrumented:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, None without a sampled or valid one (or with tracing off)."""
    if not _enabled:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT)


def current_trace_id() -> str | None:
    """The 32 hex digits of the current span's trace id (None without a valid one or with tracing off); cheaper
    than `trace_id_of(current_traceparent())` (no propagator), for a log line per request."""
    if not _enabled:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32 hex digits of a traceparent's trace id (None when malformed)."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


# ---- Kafka

Headers = Sequence[tuple[str, bytes]]


def _traceparent_from(carrier: Any) -> str | None:
    """A traceparent from Kafka headers (a sequence of (name, bytes)), a ConsumerRecord (its headers), an envelope
    (the CloudEvents `traceparent` extension) or a plain string."""
    if carrier is None:
        return None
    if isinstance(carrier, str):
        return carrier or None
    if isinstance(carrier, Mapping):
        value = carrier.get(TRACEPARENT)
        return value if isinstance(value, str) and value else None
    headers = getattr(carrier, "headers", carrier)
    if isinstance(headers, Sequence):
        for item in headers:
            if isinstance(item, tuple) and len(item) == 2 and str(item[0]).lower() == TRACEPARENT:
                raw = item[1]
                value = raw.decode("latin-1") if isinstance(raw, (bytes, bytearray)) else str(raw)
                return value or None
    return None


def _context_of(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent:
        return None
    return _propagator.extract({TRACEPARENT: traceparent})


@contextlib.contextmanager
def event_span(topic: str, *carriers: Any, consumer: str | None = None, partition: int | None = None,
               offset: int | None = None, event_id: str | None = None) -> Iterator[Span | None]:
    """Continue an event's trace while handling it: `with event_span(record.topic, record.headers, event): ...`.

    The parent is the first traceparent found among `carriers` (Kafka headers, the record, the envelope); the span
    (kind CONSUMER, "<topic> process") is current inside the block, so the handler's queries and the events it
    enqueues belong to the same trace. An exception is recorded by class only and propagates. With tracing off
    it yields None and costs next to nothing; so it does for an event of a trace left out (an unsampled
    traceparent), with the instrumentation suppressed while the handler runs."""
    if not _enabled:
        yield None
        return
    traceparent = None
    envelope_id = event_id
    for carrier in carriers:
        traceparent = traceparent or _traceparent_from(carrier)
        if envelope_id is None and isinstance(carrier, Mapping) and isinstance(carrier.get("id"), str):
            envelope_id = carrier["id"]
    if traceparent is not None and _unsampled(traceparent):  # the trace's edge left it out: so does the handler
        token = otel_context.attach(_unsampled_context(traceparent))
        try:
            yield None
        finally:
            otel_context.detach(token)
        return
    attributes: dict[str, Any] = {"messaging.system": "kafka", "messaging.destination.name": topic,
                                  "messaging.operation.type": "process"}
    if consumer is not None:
        attributes["messaging.consumer.group.name"] = consumer
    if partition is not None:
        attributes["messaging.destination.partition.id"] = str(partition)
    if offset is not None:
        attributes["messaging.kafka.offset"] = offset
    if envelope_id is not None:
        attributes["messaging.message.id"] = envelope_id
    with _tracer.start_as_current_span(f"{topic} process", context=_context_of(traceparent), kind=SpanKind.CONSUMER,
                                       attributes=attributes, record_exception=False,
                                       set_status_on_exception=False) as span:
        try:
            yield span
        except BaseException as exc:
            fail(span, exc)
            raise


def fail(span: Span | None, exc: BaseException) -> None:
    """Mark a span failed with the exception's class only (its message may quote personal data)."""
    if span is not None and span.is_recording():
        span.set_attribute("error.type", type(exc).__qualname__)
        span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))


def start_publish_span(topic: str, traceparent: str | None, *, key: str | None = None,
                       event_id: str | None = None) -> Span | None:
    """The relay's span for publishing one outbox row, a child of the context saved with the row (None when the
    row has none, an unsampled one, or tracing is off: a batch job's events do not each start a trace; an unsampled
    row's header is its own traceparent, see `kafka_headers`)."""
    if not _enabled or not traceparent or _unsampled(traceparent):
        return None
    attributes: dict[str, Any] = {"messaging.system": "kafka", "messaging.destination.name": topic,
                                  "messaging.operation.type": "send"}
    if event_id:
        attributes["messaging.message.id"] = event_id
    return _tracer.start_span(f"{topic} publish", context=_context_of(traceparent), kind=SpanKind.PRODUCER,
                              attributes=attributes)


def kafka_headers(span: Span | None, traceparent: str | None) -> list[tuple[str, bytes]] | None:
    """The Kafka headers of a published row: the publish span's traceparent, else the row's own, else none."""
    if span is not None:
        carrier: dict[str, str] = {}
        _propagator.inject(carrier, context=trace.set_span_in_context(span))
        traceparent = carrier.get(TRACEPARENT) or traceparent
    return [(TRACEPARENT, traceparent.encode("latin-1"))] if traceparent else None


def shutdown(timeout_millis: int = 5000) -> None:
    """Flush the spans still queued (at a process's shutdown)."""
    if not _enabled:
        return
    provider = trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        with contextlib.suppress(Exception):
            flush(timeout_millis)


def read_spans(folder: Path) -> list[dict[str, Any]]:
    """Every span written to `<folder>/*.jsonl` (lines that do not parse are skipped)."""
    spans: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                with contextlib.suppress(ValueError):
                    spans.append(json.loads(line))
    return spans
