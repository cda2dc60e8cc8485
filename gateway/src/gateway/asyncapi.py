"""The events' AsyncAPI 3.0 document (`/asyncapi.json`) and a plain page that renders it (`/asyncapi`), no token."""

import html
import json
from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from fupin_events.asyncapi import asyncapi_document

router = APIRouter(include_in_schema=False)


@cache
def _document() -> dict[str, Any]:
    return asyncapi_document()


@router.get("/asyncapi.json")
async def asyncapi_json() -> JSONResponse:
    return JSONResponse(_document())


@router.get("/asyncapi")
async def asyncapi_page() -> HTMLResponse:
    return HTMLResponse(_cached_page())


@cache
def _cached_page() -> str:
    return render_page(_document())


def render_page(doc: dict[str, Any]) -> str:
    """Every channel with its producer, consumers, retention and payload fields: server-rendered, self-contained."""
    schemas = doc["components"]["schemas"]
    producers: dict[str, str] = {}
    consumers: dict[str, list[str]] = {}
    for op in doc["operations"].values():
        key = op["channel"]["$ref"].rsplit("/", 1)[-1]
        who = op["summary"].split(" ", 1)[0]
        if op["action"] == "send":
            producers[key] = who
        else:
            consumers.setdefault(key, []).append(who)
    sections = []
    for key, channel in doc["channels"].items():
        message = doc["components"]["messages"][key]
        model = message["payload"]["allOf"][1]["properties"]["data"]["$ref"].rsplit("/", 1)[-1]
        sections.append(
            f"<section id='{html.escape(channel['address'])}'><h2>{html.escape(channel['address'])}</h2>"
            f"<p>{html.escape(channel.get('description') or '')}</p>"
            f"<p><b>producer</b> {html.escape(producers.get(key, '-'))} · <b>consumers</b> "
            f"{html.escape(', '.join(consumers.get(key, [])) or '-')} · <b>retention</b> "
            f"{html.escape(message['x-retention'])} · <b>version</b> {message['x-topic-version']} · "
            f"<b>payload</b> {html.escape(model)}</p>{_fields(schemas[model], schemas)}</section>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Fupin events (AsyncAPI)</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}code{font-size:.9em}</style></head>"
            f"<body><h1>{html.escape(doc['info']['title'])} {html.escape(doc['info']['version'])}</h1>"
            f"<p>{html.escape(doc['info']['description'])} <a href='/asyncapi.json'>asyncapi.json</a> · "
            f"<a href='/docs'>HTTP API</a></p>{''.join(sections)}</body></html>")


def _fields(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(_type(prop, schemas))}</td>"
        f"<td>{'yes' if name in required else ''}</td></tr>"
        for name, prop in schema.get("properties", {}).items())
    return f"<table><tr><th>field</th><th>type</th><th>required</th></tr>{rows}</table>"


def _type(prop: dict[str, Any], schemas: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " | ".join(_type(p, schemas) for p in prop["anyOf"])
    if "enum" in prop:
        return " | ".join(json.dumps(v) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"])
    if prop.get("type") == "array":
        return f"[{_type(prop.get('items', {}), schemas)}]"
    return str(prop.get("format") or prop.get("type", "object"))
