"""Idempotency-Key: a retry with the same key and body returns the first answer and creates nothing."""

import asyncio
import uuid

import httpx
from conftest import Widget
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from fupin_kit.db import Database, SessionDep
from fupin_kit.errors import install_error_handlers
from fupin_kit.idempotency import IdempotencyMiddleware


class WidgetIn(BaseModel):
    name: str


def make_app(db: Database) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)

    @app.post("/widgets", status_code=201)
    async def create_widget(body: WidgetIn, session: SessionDep) -> dict[str, object]:
        widget = Widget(name=body.name)
        session.add(widget)
        await session.flush()
        await asyncio.sleep(0.05)  # widen the window for concurrent retries
        return {"id": widget.id, "name": widget.name}

    return app


async def count(db: Database, name: str) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(Widget).where(Widget.name == name))).one()[0]


async def test_retry_replays_and_other_body_conflicts(db: Database) -> None:
    name, key = uuid.uuid4().hex, uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db)), base_url="http://t") as http:
        first = await http.post("/widgets", json={"name": name}, headers={"Idempotency-Key": key})
        again = await http.post("/widgets", json={"name": name}, headers={"Idempotency-Key": key})
        other = await http.post("/widgets", json={"name": name + "x"}, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert await count(db, name) == 1


async def test_concurrent_retries_create_one(db: Database) -> None:
    name, key = uuid.uuid4().hex, uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db)), base_url="http://t") as http:
        answers = await asyncio.gather(*[
            http.post("/widgets", json={"name": name}, headers={"Idempotency-Key": key}) for _ in range(10)])
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await count(db, name) == 1


async def test_multipart_retry_with_a_new_boundary_is_the_same_request(db: Database) -> None:
    app = FastAPI()
    app.state.db = db
    app.add_middleware(IdempotencyMiddleware)
    seen: list[str] = []

    @app.post("/uploads", status_code=202)
    async def upload(request: Request) -> dict[str, str]:
        seen.append(str(len(await request.body())))
        return {"upload": uuid.uuid4().hex}

    key = uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        first = await http.post("/uploads", files={"file": ("a.csv", b"x,y\n1,2\n")}, headers={"Idempotency-Key": key})
        again = await http.post("/uploads", files={"file": ("a.csv", b"x,y\n1,2\n")}, headers={"Idempotency-Key": key})
        other = await http.post("/uploads", files={"file": ("a.csv", b"x,y\n1,3\n")}, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 202 and again.json() == first.json()
    assert other.status_code == 409
    assert len(seen) == 1


async def test_without_key_each_post_creates(db: Database) -> None:
    name = uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db)), base_url="http://t") as http:
        await http.post("/widgets", json={"name": name})
        await http.post("/widgets", json={"name": name})
    assert await count(db, name) == 2
