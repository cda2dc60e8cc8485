"""`fupin-dev trace REQUEST_ID`: the spans the components wrote to `.run/traces/*.jsonl` (fupin_kit.telemetry), as one
tree per trace across the gateway, the services, the outbox relays and the consumers."""

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Span = dict[str, Any]
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
REQUEST_ID_ATTRIBUTE = "fupin.request_id"  # fupin_kit.telemetry.REQUEST_ID_ATTRIBUTE
DB_SYSTEMS = ("postgresql",)


def _files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.jsonl.1"), *folder.glob("*.jsonl")]) if folder.is_dir() else []


def read_spans(folder: Path, *needles: str) -> list[Span]:
    """The spans of `folder/*.jsonl`; with `needles`, only lines holding one of them are parsed (a quick filter:
    the files of a long-running stack hold many thousand spans)."""
    spans: list[Span] = []
    for path in _files(folder):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if needles and not any(n in line for n in needles):
                    continue
                try:
                    span = json.loads(line)
                except ValueError:
                    continue  # a line being written
                if isinstance(span, dict) and span.get("trace_id") and span.get("span_id"):
                    spans.append(span)
    return spans


def trace_ids_of(spans: Iterable[Span], request_id: str) -> list[str]:
    """The traces of a request: those with a span tagged with its X-Request-Id, or the trace id itself."""
    wanted = request_id.strip().lower()
    found: dict[str, int] = {}
    for span in spans:
        attributes = span.get("attributes") or {}
        if attributes.get(REQUEST_ID_ATTRIBUTE) == request_id or span["trace_id"] == wanted:
            found.setdefault(span["trace_id"], span.get("start_ns") or 0)
    return sorted(found, key=found.__getitem__)


def find_trace(folder: Path, request_id: str, *, wait: float = 0.0, settle: float = 0.0) -> list[list[Span]]:
    """The spans of each trace of `request_id` (X-Request-Id or trace id), waiting up to `wait` s for a first span;
    with `settle`, until no new span of them arrived for that long (consumers finish after the request)."""
    deadline = time.monotonic() + wait
    needle = json.dumps(request_id)[1:-1]
    while True:
        ids = trace_ids_of(read_spans(folder, needle), request_id)
        if ids or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    spans = read_spans(folder, *ids) if ids else []
    if ids and settle > 0:
        seen = -1
        while len(spans) != seen and time.monotonic() < deadline:
            seen = len(spans)
            time.sleep(settle)
            spans = read_spans(folder, *ids)
    by_trace: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        if span["trace_id"] in ids:
            by_trace[span["trace_id"]].append(span)
    return [by_trace[i] for i in ids]


def is_database(span: Span) -> bool:
    return (span.get("attributes") or {}).get("db.system", (span.get("attributes") or {}).get(
        "db.system.name")) in DB_SYSTEMS


def _describe(span: Span, origin: int) -> str:
    attributes = span.get("attributes") or {}
    offset = ((span.get("start_ns") or origin) - origin) / 1e6
    status = attributes.get("http.response.status_code", attributes.get("http.status_code"))
    extra = f" → {status}" if status is not None else ""
    if span.get("status") == "ERROR":
        extra += f" ERROR {attributes.get('error.type', '')}".rstrip()
    name = span.get("name")
    if span.get("kind") == "SERVER" and " " not in str(name) and attributes.get("url.path"):
        name = f"{name} {attributes['url.path']}"  # no route template matched (the gateway's proxy names none)
    if is_database(span) and (statement := attributes.get("db.statement", attributes.get("db.query.text"))):
        name = " ".join(str(statement).split())[:80]
    return (f"[{span.get('component') or '?'}] {name} ({span.get('kind', '').lower()}){extra}"
            f"  +{offset:.1f} ms, {span.get('duration_ms', 0):.1f} ms")


def render(spans: list[Span], *, databases: bool = True) -> list[str]:
    """One trace as indented lines, children in start order; spans whose parent is missing are roots. Without
    `databases`, the queries' spans (leaves) are left out and counted."""
    parents = {s.get("parent_span_id") for s in spans}
    shown = [s for s in spans if databases or not is_database(s) or s["span_id"] in parents]
    ids = {s["span_id"] for s in shown}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in shown:
        parent = span.get("parent_span_id")
        children[parent if parent in ids else None].append(span)
    for group in children.values():
        group.sort(key=lambda s: s.get("start_ns") or 0)
    origin = min((s.get("start_ns") or 0) for s in spans) if spans else 0
    lines: list[str] = []

    def walk(span: Span, prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        lines.append(prefix + branch + _describe(span, origin))
        below = children.get(span["span_id"], [])
        extension = "" if depth == 0 else ("   " if last else "│  ")
        for i, child in enumerate(below):
            walk(child, prefix + extension, i == len(below) - 1, depth + 1)

    for root in children.get(None, []):
        walk(root, "", True, 0)
    if hidden := len(spans) - len(shown):
        lines.append(f"({hidden} database spans not shown)")
    return lines


def components_of(spans: Iterable[Span]) -> set[str]:
    return {s["component"] for s in spans if s.get("component")}
