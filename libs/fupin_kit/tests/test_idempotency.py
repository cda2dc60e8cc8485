"""Idempotency-Key: a retry with the same key and body returns the first answer and creates nothing."""

import asyncio
import uuid

import httpx
import jwt
from conftest import Widget
from fastapi import BackgroundTasks, FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import func, select, text

from fupin_kit.auth import PrincipalWith, TokenVerifier
from fupin_kit.db import Database, SessionDep
from fupin_kit.errors import Unprocessable, install_error_handlers
from fupin_kit.idempotency import IdempotencyMiddleware
from fupin_kit.testing import bearer, generate_keypair

PRIVATE, PUBLIC = generate_keypair()
WRITER = PrincipalWith("kit:write")
AUTH = bearer(PRIVATE, "kit:write", client_id="client-a")


class WidgetIn(BaseModel):
    name: str


def make_app(db: Database, seen_by_background: list[int] | None = None) -> FastAPI:
    app = FastAPI()
    app.state.db = db
    app.state.token_verifier = TokenVerifier(PUBLIC, issuer="fupin-gateway", audience="fupin")
    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware)

    async def look_up(name: str) -> None:
        assert seen_by_background is not None
        seen_by_background.append(await count(db, name))

    @app.post("/widgets", status_code=201)
    async def create_widget(body: WidgetIn, session: SessionDep, _: WRITER,
                            background: BackgroundTasks) -> dict[str, object]:
        if body.name.startswith("refuse"):
            raise Unprocessable("not_yet", "refused for now")
        widget = Widget(name=body.name)
        session.add(widget)
        await session.flush()
        await asyncio.sleep(0.05)  # widen the window for concurrent retries
        if seen_by_background is not None:
            background.add_task(look_up, body.name)
        return {"id": widget.id, "name": widget.name}

    return app


def headers(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **AUTH}


async def count(db: Database, name: str) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(Widget).where(Widget.name == name))).one()[0]


async def test_retry_replays_and_other_body_conflicts(db: Database) -> None:
    name, key = uuid.uuid4().hex, uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db)), base_url="http://t") as http:
        first = await http.post("/widgets", json={"name": name}, headers=headers(key))
        again = await http.post("/widgets", json={"name": name}, headers=headers(key))
        other = await http.post("/widgets", json={"name": name + "x"}, headers=headers(key))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert await count(db, name) == 1


async def test_concurrent_retries_create_one(db: Database) -> None:
    name, key = uuid.uuid4().hex, uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db)), base_url="http://t") as http:
        answers = await asyncio.gather(*[
            http.post("/widgets", json={"name": name}, headers=headers(key)) for _ in range(10)])
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await count(db, name) == 1


async def test_multipart_retry_with_a_new_boundary_is_the_same_request(db: Database) -> None:
    app = FastAPI()
    app.state.db = db
    app.state.token_verifier = TokenVerifier(PUBLIC, issuer="fupin-gateway", audience="fupin")
    app.add_middleware(IdempotencyMiddleware)
    seen: list[str] = []

    @app.post("/uploads", status_code=202)
    async def upload(request: Request) -> dict[str, str]:
        seen.append(str(len(await request.body())))
        return {"upload": uuid.uuid4().hex}

    key = uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        first = await http.post("/uploads", files={"file": ("a.csv", b"x,y\n1,2\n")}, headers=headers(key))
        again = await http.post("/uploads", files={"file": ("a.csv", b"x,y\n1,2\n")}, headers=headers(key))
        other = await http.post("/uploads", files={"file": ("a.csv", b"x,y\n1,3\n")}, headers=headers(key))
    assert first.status_code == again.status_code == 202 and again.json() == first.json()
    assert other.status_code == 409
    assert len(seen) == 1


async def test_without_key_each_post_creates(db: Database) -> None:
    name = uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db)), base_url="http://t") as http:
        await http.post("/widgets", json={"name": name}, headers=AUTH)
        await http.post("/widgets", json={"name": name}, headers=AUTH)
    assert await count(db, name) == 2


async def test_a_forged_token_cannot_claim_another_clients_key(db: Database) -> None:
    name, key = uuid.uuid4().hex, uuid.uuid4().hex
    forged = jwt.encode({"sub": "client-a", "scope": "kit:write", "iss": "fupin-gateway", "aud": "fupin"},
                        "not-the-gateway-key-but-long-enough-for-hs256", algorithm="HS256")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db)), base_url="http://t") as http:
        first = await http.post("/widgets", json={"name": name}, headers=headers(key))
        # a poisoning attempt first: the unsigned caller's answer must never be stored under client-a's key
        other_key = uuid.uuid4().hex
        poisoning = await http.post("/widgets", json={"name": name + "p"},
                                    headers={"Idempotency-Key": other_key, "Authorization": f"Bearer {forged}"})
        replay_attempt = await http.post("/widgets", json={"name": name},
                                         headers={"Idempotency-Key": key, "Authorization": f"Bearer {forged}"})
        genuine = await http.post("/widgets", json={"name": name + "q"}, headers=headers(other_key))
    assert first.status_code == 201
    assert poisoning.status_code == 401 and replay_attempt.status_code == 401
    assert "idempotent-replayed" not in replay_attempt.headers
    assert genuine.status_code == 201 and genuine.json()["name"] == name + "q"


async def test_only_a_success_is_kept_and_answers_expire_after_24_hours(db: Database) -> None:
    key = uuid.uuid4().hex
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db)), base_url="http://t") as http:
        refused = await http.post("/widgets", json={"name": "refuse-me"}, headers=headers(key))
        assert refused.status_code == 422
        name = uuid.uuid4().hex
        # the same key after a 4xx is processed afresh (a different body is no conflict: nothing was kept)
        created = await http.post("/widgets", json={"name": name}, headers=headers(key))
        assert created.status_code == 201 and "idempotent-replayed" not in created.headers
        async with db.session() as session:
            await session.exec(text("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "  # type: ignore[call-overload]
                                    "WHERE key = :k").bindparams(k=key))
            await session.commit()
        again = await http.post("/widgets", json={"name": name}, headers=headers(key))
    assert again.status_code == 201 and again.json()["id"] != created.json()["id"]
    assert await count(db, name) == 2


async def test_answer_and_effect_commit_together_before_the_reply_and_background_tasks(db: Database) -> None:
    name, key = uuid.uuid4().hex, uuid.uuid4().hex
    seen: list[int] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(db, seen)), base_url="http://t") as http:
        answer = await http.post("/widgets", json={"name": name}, headers=headers(key))
    assert answer.status_code == 201
    assert seen == [1]  # the background task ran after the commit
    async with db.session() as session:
        stored = (await session.exec(text("SELECT status_code FROM idempotency_keys WHERE key = :k")  # type: ignore[call-overload]
                                     .bindparams(k=key))).all()
    assert [s[0] for s in stored] == [201]
