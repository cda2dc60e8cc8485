"""One trace from the county's click to the consumers (issue 13 item 5): a registration through the gateway is one
trace with spans of the gateway, the registry, its outbox relay and the consumers of `household-registered`, and
`fupin-dev trace REQUEST_ID` prints it. Needs a stack started by `fupin-dev up` (it sets FUPIN_TRACE_DIR)."""

import asyncio
import datetime as dt
import inspect
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from conftest import KAFKA, Divisions, household_body, member, resident_id
from typer.testing import CliRunner

from fupin_dev import cli, config, traces
from fupin_events import TOPICS
from fupin_kit.events import consumer as kit_consumer
from fupin_kit.testing import events_about

TOPIC = "household-registered"
CONSUMERS = set(next(t for t in TOPICS if t.name == TOPIC).consumers)


def _traced_stack() -> Path:
    folder = config.traces_dir()
    if not (folder / "gateway.jsonl").is_file() or not (folder / "registry.jsonl").is_file():
        pytest.skip(f"the running stack writes no spans to {folder} (started before tracing, or FUPIN_TRACE_DIR='')")
    return folder


async def _kafka_traceparent(household_id: str, timeout: float = 20.0) -> str | None:
    # from the end, less a few records per partition: the event was published a moment ago
    (record,) = await events_about(KAFKA, TOPIC, {household_id}, 1, timeout=timeout, from_end=200)
    return record.header("traceparent")


async def test_a_registration_is_one_trace_across_the_gateway_the_registry_the_relay_and_the_consumers(
        http: httpx.AsyncClient, auth: Callable[[str], Awaitable[dict[str, str]]], divisions: Divisions) -> None:
    folder = _traced_stack()
    gov = await auth("gov-portal")
    head = member(resident_id(divisions.county, dt.date(1980, 5, 1)))
    created = await http.post("/registry/households", headers=gov, json=household_body(divisions.village, [head]))
    assert created.status_code == 201, created.text
    household_id = created.json()["household_id"]
    town = await http.post(f"/registry/households/{household_id}/verifications", headers=gov,
                           json={"level": "town", "approved": True, "officer": "town", "note": "e2e"})
    assert town.status_code in (200, 201), town.text
    request_id = f"trace-{uuid.uuid4().hex}"
    county = await http.post(f"/registry/households/{household_id}/verifications",
                             headers={**gov, "X-Request-Id": request_id},
                             json={"level": "county", "approved": True, "officer": "county", "note": "e2e"})
    assert county.status_code in (200, 201), county.text
    assert county.headers["x-request-id"] == request_id

    found = await asyncio.to_thread(traces.find_trace, folder, request_id, wait=15.0, settle=1.0)
    assert len(found) == 1, f"{len(found)} traces tagged {request_id}"
    spans = found[0]
    trace_id = spans[0]["trace_id"]
    by_component = {c: [s for s in spans if s["component"] == c] for c in traces.components_of(spans)}
    assert any(s["kind"] == "SERVER" and s["attributes"].get("fupin.request_id") == request_id
               for s in by_component.get("gateway", [])), "the gateway's server span names the request id"
    assert any(s["kind"] == "CLIENT" for s in by_component["gateway"]), "the proxy hop's client span"
    assert any(s["kind"] == "SERVER" for s in by_component.get("registry", [])), "the registry's server span"
    publish = [s for s in by_component["registry"] if s["name"] == f"{TOPIC} publish"]
    assert publish and publish[0]["kind"] == "PRODUCER", "the registry's relay published in the same trace"

    # the trace context crossed the broker as the `traceparent` header, naming the relay's publish span
    header = await _kafka_traceparent(household_id)
    assert header is not None and header.split("-")[1] == trace_id

    if "event_span" in inspect.getsource(kit_consumer):  # the consumer continues the trace (fupin_kit.telemetry)
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            (spans,) = await asyncio.to_thread(traces.find_trace, folder, request_id)
            consumers = {s["component"] for s in spans if s["kind"] == "CONSUMER" and TOPIC in s["name"]}
            if consumers >= CONSUMERS or (consumers and asyncio.get_running_loop().time() > deadline):
                break
            assert asyncio.get_running_loop().time() < deadline + 10, "no consumer's span in the trace"
            await asyncio.sleep(0.5)
        processed = [s for s in spans if s["kind"] == "CONSUMER"]
        assert {s["parent_span_id"] for s in processed} <= {s["span_id"] for s in publish}

    # and `fupin-dev trace` prints it as one tree rooted at the gateway (in-process: the CLI's own code)
    printed = await asyncio.to_thread(CliRunner().invoke, cli.app, ["trace", request_id, "--no-db", "--wait", "0"])
    assert printed.exit_code == 0, printed.output
    lines = printed.output.splitlines()
    assert trace_id in printed.output and any(line.startswith("[gateway]") for line in lines)
    assert f"[registry] {TOPIC} publish" in printed.output
    raw = "".join(p.read_text(encoding="utf-8", errors="replace") for p in folder.glob("*.jsonl"))
    assert head["id_number"] not in raw and head["name"] not in raw
