"""Traces across the Kafka hop: `enqueue` saves the trace context in the outbox row, the relay sends it as the
`traceparent` header from a publish span, a consumer's `event_span` continues it; with tracing off nothing is added."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Widget
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import text

from fupin_kit import telemetry
from fupin_kit.db import Database
from fupin_kit.events.outbox import enqueue
from fupin_kit.events.relay import OutboxRelay, build_producer
from fupin_kit.telemetry_export import JsonLinesExporter, scrubbed
from fupin_kit.testing import events_about

TOPIC = "kit-test-events"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on for one test, into memory (the process-wide provider is left alone)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "_enabled", True)
    monkeypatch.setattr(telemetry, "_tracer", provider.get_tracer("test"))
    yield exporter


async def _relay_all(db: Database, kafka: str, subject: str) -> None:
    # rows other tests left unsent (some for topics that do not exist) are not this test's business
    async with db.session() as session:
        await session.exec(text("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL AND key <> :k")  # type: ignore[call-overload]
                           .bindparams(k=subject))
        await session.commit()
    producer = build_producer(kafka)
    await producer.start()
    try:
        relay = OutboxRelay(db, producer, component="kit")
        while await relay.publish_batch():
            pass
    finally:
        await producer.stop()


async def test_one_trace_runs_from_the_request_through_the_relay_to_the_consumer(
        db: Database, kafka: str, spans: InMemorySpanExporter) -> None:
    subject = uuid.uuid4().hex
    with telemetry._tracer.start_as_current_span("POST /widgets", kind=SpanKind.SERVER) as request_span:
        async with db.session() as session:
            session.add(Widget(name="traced"))
            staged = await enqueue(session, source="kit", topic=TOPIC, subject=subject, data={"n": 1})
            await session.commit()
    trace_id = format(request_span.get_span_context().trace_id, "032x")
    assert telemetry.trace_id_of(staged["traceparent"]) == trace_id  # the CloudEvents extension, saved in the row

    await _relay_all(db, kafka, subject)
    (record,) = await events_about(kafka, TOPIC, {subject}, 1, timeout=20)
    event, headers = record.event, record.headers
    assert event["traceparent"] == staged["traceparent"]  # the envelope keeps the context it was created in
    (header,) = [value.decode() for name, value in headers if name == "traceparent"]
    (publish,) = [s for s in spans.get_finished_spans() if s.name == f"{TOPIC} publish"]
    assert publish.kind == SpanKind.PRODUCER and publish.parent is not None
    assert publish.parent.span_id == request_span.get_span_context().span_id
    assert header.split("-")[2] == format(publish.context.span_id, "016x")  # the header names the publish span

    with telemetry.event_span(TOPIC, headers, event, consumer="kit", partition=0, offset=7) as span:
        assert span is not None
        assert telemetry.trace_id_of(telemetry.current_traceparent()) == trace_id  # what the handler enqueues
    (process,) = [s for s in spans.get_finished_spans() if s.name == f"{TOPIC} process"]
    assert process.kind == SpanKind.CONSUMER and format(process.context.trace_id, "032x") == trace_id
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert process.attributes is not None and process.attributes["messaging.message.id"] == event["id"]


def test_event_span_falls_back_to_the_envelope_and_records_failures_by_class(
        spans: InMemorySpanExporter) -> None:
    traceparent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    event = {"id": "e-1", "traceparent": traceparent, "data": {}}
    with pytest.raises(ValueError), telemetry.event_span(TOPIC, [], event):
        raise ValueError("110101199001011234 is not allowed")
    (process,) = spans.get_finished_spans()
    assert format(process.context.trace_id, "032x") == telemetry.trace_id_of(traceparent)
    assert process.status.status_code == StatusCode.ERROR and process.status.description == "ValueError"
    assert "1101011990" not in json.dumps([dict(process.attributes or {}), [e.name for e in process.events]])


def test_exception_messages_never_leave_the_process(tmp_path: Path, spans: InMemorySpanExporter) -> None:
    with telemetry._tracer.start_as_current_span("handler") as span:
        try:
            raise KeyError("张三 110101199001011234")
        except KeyError as exc:
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, f"KeyError: {exc}")
    (raw,) = spans.get_finished_spans()
    clean = scrubbed(raw)
    assert clean.status.description == "KeyError"
    assert [dict(e.attributes or {}) for e in clean.events] == [{"exception.type": "KeyError",
                                                                 "exception.escaped": "False"}]
    path = tmp_path / "kit.jsonl"
    JsonLinesExporter(path).export([clean])
    (line,) = path.read_text().splitlines()
    assert "110101" not in line and json.loads(line)["status"] == "ERROR"


async def test_with_tracing_off_nothing_is_added(db: Database) -> None:
    assert not telemetry.enabled()
    subject = uuid.uuid4().hex
    async with db.session() as session:
        staged = await enqueue(session, source="kit", topic=TOPIC, subject=subject, data={"n": 2})
        await session.rollback()
    assert "traceparent" not in staged
    assert telemetry.kafka_headers(None, None) is None
    with telemetry.event_span(TOPIC, [("traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")]) as span:
        assert span is None


def test_a_server_span_continues_the_callers_trace_and_names_the_route_and_the_request_id(
        spans: InMemorySpanExporter) -> None:
    caller = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    handle = telemetry.start_server_span({b"traceparent": caller.encode()}, "POST", "/widgets/7", "req-1")
    assert handle is not None
    assert telemetry.trace_id_of(telemetry.current_traceparent()) == telemetry.trace_id_of(caller)
    handle.finish("POST", "/widgets/{id}", 503)
    (server,) = spans.get_finished_spans()
    assert server.name == "POST /widgets/{id}" and server.kind == SpanKind.SERVER
    assert server.parent is not None and format(server.parent.span_id, "016x") == caller.split("-")[2]
    assert server.attributes is not None and server.attributes["fupin.request_id"] == "req-1"
    assert server.attributes["http.response.status_code"] == 503 and server.status.status_code == StatusCode.ERROR
    assert telemetry.current_traceparent() is None  # detached after the call
    assert telemetry.start_server_span({}, "GET", "/registry/readyz", "req-2") is None  # health is not traced


def test_a_call_outside_a_trace_is_sampled_and_the_others_follow_their_callers(
        spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "_read_ratio", 0.0)
    monkeypatch.setattr(telemetry, "_write_ratio", 0.0)
    for method in ("GET", "POST"):
        handle = telemetry.start_server_span({}, method, "/registry/households/1", "req-1")
        assert handle is not None and handle.span is None
        assert not is_instrumentation_enabled()  # its queries and calls make no spans either
        # an unsampled trace of its own: what the gateway forwards and the events it enqueues carry
        left_out = telemetry.current_traceparent()
        assert left_out is not None and left_out.endswith("-00") and telemetry.trace_id_of(left_out) != "0" * 32
        assert telemetry.unsampled_traceparent() == left_out
        handle.finish(method, "/registry/households/{household_id}", 200)
        assert is_instrumentation_enabled()
        assert telemetry.current_traceparent() is None
    assert spans.get_finished_spans() == ()

    caller = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    named = telemetry.start_server_span({b"x-request-id": b"mine"}, "GET", "/x", "mine")
    assert named is not None and named.span is None  # a request id does not decide: the gateway gives every call one
    named.finish("GET", "/x", 200)
    for headers, method, edge_named in (({b"traceparent": caller.encode()}, "GET", False),
                                        ({b"traceparent": caller.encode()}, "POST", False),
                                        ({}, "POST", True), ({}, "GET", True)):
        traced = telemetry.start_server_span(headers, method, "/registry/households", "req-2", named=edge_named)
        assert traced is not None and traced.span is not None and traced.span.is_recording()
        assert telemetry.unsampled_traceparent() is None  # the client instrumentation sends the sampled one
        traced.finish(method, "/registry/households", 200)
    assert len(spans.get_finished_spans()) == 4

    for method in ("GET", "POST"):  # the caller's trace is not sampled: the call continues it, unsampled
        unsampled = caller[:-2] + "00"
        handle = telemetry.start_server_span({b"traceparent": unsampled.encode()}, method, "/x", "req-3")
        assert handle is not None and handle.span is None and not is_instrumentation_enabled()
        assert telemetry.current_traceparent() == unsampled
        handle.finish(method, "/x", 200)
    assert len(spans.get_finished_spans()) == 4

    monkeypatch.setattr(telemetry, "_read_ratio", 1.0)
    monkeypatch.setattr(telemetry, "_write_ratio", 1.0)
    for method in ("GET", "PUT"):
        every = telemetry.start_server_span({}, method, "/registry/households/1", "req-3")
        assert every is not None and every.span is not None
        every.finish(method, "/registry/households/{household_id}", 200)
    assert len(spans.get_finished_spans()) == 6


def test_an_unsampled_trace_stays_unsampled_through_the_relay_and_the_consumer(spans: InMemorySpanExporter) -> None:
    unsampled = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00"
    assert telemetry.start_publish_span(TOPIC, unsampled) is None
    assert telemetry.kafka_headers(None, unsampled) == [("traceparent", unsampled.encode())]
    with telemetry.event_span(TOPIC, [("traceparent", unsampled.encode())], consumer="kit") as span:
        assert span is None and not is_instrumentation_enabled()
        assert telemetry.current_traceparent() == unsampled  # what the handler enqueues stays unsampled
    assert is_instrumentation_enabled()
    assert spans.get_finished_spans() == ()


async def test_a_query_has_a_span_in_a_recorded_trace_only(db: Database) -> None:
    """The asyncpg instrumentation skips queries outside a recorded trace (the sampler would drop their spans), so
    unsampled requests and batches pay nothing for it; inside one each query is a client span of the trace."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = telemetry.queries_in_traces()
    already = instrumentor.is_instrumented_by_opentelemetry
    if not already:
        instrumentor.instrument(tracer_provider=provider)
    try:
        async with db.session() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            with provider.get_tracer("test").start_as_current_span("GET /widgets", kind=SpanKind.SERVER) as request:
                await session.exec(text("SELECT 2"))  # type: ignore[call-overload]
        if already:  # instrumented by the process with its own provider: nothing of this test's to read
            return
        queries = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT]
        assert len(queries) == 1, [s.name for s in queries]
        assert queries[0].parent is not None and queries[0].parent.span_id == request.get_span_context().span_id
    finally:
        if not already:
            instrumentor.uninstrument()
