"""Span exporters of `fupin_kit.telemetry` (imported only when tracing is on): JSON lines for dev, and the scrubbing
wrapper every exporter goes through (exception messages and stack traces never leave the process)."""

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

_WITHHELD = ("exception.message", "exception.stacktrace")


def _hex(value: int, digits: int) -> str:
    return format(value, f"0{digits}x")


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """One span as the JSON line `fupin-dev trace` reads."""
    context = span.context
    start, end = span.start_time or 0, span.end_time or 0
    return {
        "trace_id": _hex(context.trace_id, 32) if context else None,
        "span_id": _hex(context.span_id, 16) if context else None,
        "parent_span_id": _hex(span.parent.span_id, 16) if span.parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "component": span.resource.attributes.get("service.name"),
        "start_ns": start,
        "end_ns": end,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [{"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events],
    }


class JsonLinesExporter(SpanExporter):
    """Appends one JSON object per span to a file (each batch in one write: several processes may share it). Past
    `max_bytes` the file becomes `<name>.1` (the one before is dropped), so a long-running stack stays bounded."""

    def __init__(self, path: Path, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        data = "".join(json.dumps(span_record(s), ensure_ascii=False, default=str) + "\n" for s in spans).encode()
        try:
            with self._lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, data)
                    full = os.fstat(fd).st_size > self.max_bytes
                finally:
                    os.close(fd)
                if full:
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    """The span without exception messages or stack traces, and with a status description of the class only."""
    description = span.status.description
    dirty_events = any(k in (e.attributes or {}) for e in span.events for k in _WITHHELD)
    if not dirty_events and not description:
        return span
    events = [Event(e.name, {k: v for k, v in (e.attributes or {}).items() if k not in _WITHHELD}, e.timestamp)
              for e in span.events]
    status = Status(span.status.status_code, description.split(":", 1)[0] if description else None)
    return ReadableSpan(
        name=span.name, context=span.context, parent=span.parent, resource=span.resource,
        attributes=span.attributes, events=events, links=span.links, kind=span.kind, status=status,
        start_time=span.start_time, end_time=span.end_time, instrumentation_scope=span.instrumentation_scope)


class ScrubbingExporter(SpanExporter):
    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrubbed(s) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)
