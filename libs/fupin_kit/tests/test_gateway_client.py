"""The project's own gateway client retries only what is safe to send again, and always with the same key."""

import asyncio
import warnings

import httpx
import pytest

from fupin_kit.gateway_client import GatewayClient, bounded, send


def _flaky(failures: int, seen: list[httpx.Request], status: int = 201) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= failures:
            raise httpx.ReadError("the server closed the keep-alive connection", request=request)
        return httpx.Response(status, json={"ok": True})
    return httpx.MockTransport(handler)


async def test_post_is_retried_after_a_lost_connection_under_one_idempotency_key() -> None:
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=_flaky(2, seen), base_url="http://gw") as http:
        answer = await GatewayClient(http, "t").call("POST", "/registry/households", json={"a": 1})
    assert answer.status_code == 201
    keys = {r.headers["Idempotency-Key"] for r in seen}
    assert len(seen) == 3 and len(keys) == 1
    assert seen[0].headers["Authorization"] == "Bearer t"


async def test_a_caller_key_is_kept_and_each_logical_post_gets_its_own() -> None:
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=_flaky(0, seen), base_url="http://gw") as http:
        client = GatewayClient(http, "t")
        await client.call("POST", "/x", json={})
        await client.call("POST", "/x", json={})
        await client.call("POST", "/x", json={}, headers={"Idempotency-Key": "mine"})
    keys = [r.headers["Idempotency-Key"] for r in seen]
    assert keys[0] != keys[1] and keys[2] == "mine"


async def test_a_request_declared_unrepeatable_is_not_sent_twice() -> None:
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=_flaky(1, seen), base_url="http://gw") as http:
        with pytest.raises(httpx.ReadError):
            await send(http, "PATCH", "/x", json={})
    assert len(seen) == 1


async def test_429_is_waited_out_for_its_retry_after() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={})])
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: next(answers)), base_url="http://gw") as http:
        assert (await send(http, "GET", "/x")).status_code == 200


async def test_bounded_cancels_the_rest_when_one_fails() -> None:
    started: list[int] = []

    async def job(i: int) -> int:
        started.append(i)
        if i == 0:
            raise RuntimeError("first fails")
        await asyncio.sleep(0.05)
        return i

    with pytest.raises(RuntimeError), warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited"
        await bounded((job(i) for i in range(10)), limit=1)
    assert started[0] == 0 and len(started) <= 2
