"""The five prefixes: forwarding, token and scope checks, public routes, readiness, upstream failures."""

import asyncio
import datetime as dt
import json

import httpx
import jwt
import pytest
from conftest import PRIVATE_KEY, SERVICES, bearer, free_port
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fupin_kit import telemetry
from gateway import config as gateway_config

GOV = "registry:read registry:write finance:read microcredit:read education:read medical:read"


async def test_a_post_reaches_the_service_with_path_query_body_and_headers(gateway: httpx.AsyncClient) -> None:
    headers = {**bearer(GOV), "Idempotency-Key": "key-42", "X-Request-ID": "req-abc-1",
               "Content-Type": "application/json"}
    answer = await gateway.post("/registry/households/7f2c/verifications?dry=1&x=%2F",
                                content=b'{"level": "town"}', headers=headers)

    assert answer.status_code == 200, answer.text
    echoed = answer.json()
    assert (echoed["method"], echoed["path"], echoed["query"]) == (
        "POST", "/registry/households/7f2c/verifications", "dry=1&x=%2F")
    assert json.loads(echoed["body"]) == {"level": "town"}
    assert echoed["headers"]["authorization"] == headers["Authorization"]
    assert echoed["headers"]["idempotency-key"] == "key-42"
    assert echoed["headers"]["x-request-id"] == "req-abc-1"
    assert echoed["headers"]["content-type"] == "application/json"
    assert answer.headers["x-request-id"] == "req-abc-1"
    assert answer.headers.get_list("x-request-id") == ["req-abc-1"]


async def test_a_request_id_is_generated_sent_upstream_and_returned(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/finance/accounts", params={"jurisdiction_code": "610723"},
                               headers=bearer("finance:read"))

    request_id = answer.headers["x-request-id"]
    assert len(request_id) >= 16
    assert answer.json()["headers"]["x-request-id"] == request_id


async def test_a_call_left_out_of_tracing_sends_the_service_an_unsampled_traceparent(
        gateway: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    for name, value in (("_enabled", True), ("_tracer", provider.get_tracer("test")), ("_read_ratio", 0.0),
                        ("_write_ratio", 0.0)):
        monkeypatch.setattr(telemetry, name, value)

    posted = await gateway.post("/registry/households", content=b"{}", headers=bearer(GOV))
    sent = posted.json()["headers"]["traceparent"]
    assert sent.startswith("00-") and sent.endswith("-00")  # the service follows: it traces nothing either
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    read = await gateway.get("/registry/divisions/610723", headers={**bearer(GOV), "traceparent": caller})
    assert read.json()["headers"]["traceparent"] == caller
    assert exporter.get_finished_spans() == ()


async def test_every_prefix_reaches_its_service_with_the_path_unchanged(gateway: httpx.AsyncClient) -> None:
    for service in SERVICES:
        answer = await gateway.get(f"/{service}/things/1", headers=bearer(f"{service}:read"))
        assert answer.status_code == 200
        assert answer.json()["path"] == f"/{service}/things/1"


async def test_hop_by_hop_headers_are_not_forwarded(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/registry/divisions/610723", headers={
        **bearer("registry:read"), "Connection": "keep-alive, x-secret-hop", "X-Secret-Hop": "1", "TE": "trailers"})

    received = answer.json()["headers"]
    assert "x-secret-hop" not in received and "te" not in received
    assert received["x-forwarded-for"]


async def test_no_token_is_401_unauthorized_with_www_authenticate(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/registry/divisions/610723")

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unauthorized"
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_bad_expired_and_unsigned_tokens_are_401(gateway: httpx.AsyncClient) -> None:
    from fupin_kit.testing import generate_keypair, mint_token

    other_key, _ = generate_keypair()
    now = dt.datetime.now(dt.UTC)
    unsigned = jwt.encode({"iss": "fupin-gateway", "aud": "fupin", "sub": "gov-portal", "scope": "registry:read",
                           "iat": now, "exp": now + dt.timedelta(minutes=5)}, None, algorithm="none")
    tokens = {
        "garbage": "not-a-jwt",
        "foreign key": mint_token(other_key, "gov-portal", "registry:read"),
        "expired": mint_token(PRIVATE_KEY, "gov-portal", "registry:read", ttl=dt.timedelta(minutes=-1)),
        "alg none": unsigned,
    }
    for name, token in tokens.items():
        answer = await gateway.get("/registry/divisions/610723", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, name
        assert answer.json()["code"] == "unauthorized", name


async def test_a_token_without_the_services_scopes_is_403_forbidden(gateway: httpx.AsyncClient) -> None:
    bank = bearer("microcredit:eligibility microcredit:loans", client_id="bank-demo", bank_code="B001")

    refused = await gateway.get("/registry/divisions/610723", headers=bank)
    allowed = await gateway.post("/microcredit/eligibility-checks", json={"id_number": "x"}, headers=bank)

    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert allowed.status_code == 200


async def test_the_two_public_routes_need_no_token(gateway: httpx.AsyncClient) -> None:
    notice = await gateway.get("/registry/divisions/610723001001/public-notice")
    disclosure = await gateway.get("/finance/disclosures/610723", params={"year": "2020"})
    not_public = await gateway.post("/registry/divisions/610723001001/public-notice")

    assert notice.status_code == 200 and notice.json()["path"] == "/registry/divisions/610723001001/public-notice"
    assert disclosure.status_code == 200 and disclosure.json()["query"] == "year=2020"
    assert not_public.status_code == 401


async def test_service_readiness_is_forwarded_without_a_token(gateway: httpx.AsyncClient, echo) -> None:  # type: ignore[no-untyped-def]
    ready = await gateway.get("/registry/readyz")
    echo.app.state.ready = False
    try:
        not_ready = await gateway.get("/registry/readyz")
        gateway_still_ready = await gateway.get("/readyz")
        status = await gateway.get("/status")
    finally:
        echo.app.state.ready = True

    assert ready.status_code == 200
    assert not_ready.status_code == 503
    # contract §0: the gateway is ready on its own database and keys, whatever the services say
    assert gateway_still_ready.status_code == 200
    assert status.status_code == 200 and status.json()["ready"] is False
    assert status.json()["components"]["registry"]["ready"] is False
    assert status.json()["components"]["gateway"]["ready"] is True


async def test_gateway_readiness_is_its_own_database_and_keys(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/readyz")

    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"] == {"database": True, "keys": True}


async def test_status_aggregates_every_component_without_a_token(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/status")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body["components"]) == {"gateway", *gateway_config.SERVICES}
    assert all(body["components"][s]["ready"] for s in SERVICES)  # the ones the echo service stands in for
    assert body["ready"] is all(c["ready"] for c in body["components"].values())
    assert body["components"]["gateway"]["checks"] == {"database": True, "keys": True}


async def test_a_service_that_is_down_is_503_upstream_unavailable(gateway_with) -> None:  # type: ignore[no-untyped-def]
    async with gateway_with(medical_url=f"http://127.0.0.1:{free_port()}") as http:
        call = await http.get("/medical/settlements/1", headers=bearer("medical:read"))
        readiness = await http.get("/medical/readyz")
        overall = await http.get("/readyz")
        status = await http.get("/status")

    assert call.status_code == 503
    assert call.json()["code"] == "upstream_unavailable"
    assert readiness.status_code == 503
    assert overall.status_code == 200  # a service that is down does not take the gateway out of rotation
    components = status.json()["components"]
    assert components["medical"]["ready"] is False and components["registry"]["ready"] is True


async def test_an_oversized_body_is_413(gateway_with) -> None:  # type: ignore[no-untyped-def]
    async with gateway_with(max_body_bytes=100) as http:
        answer = await http.post("/registry/households", content=b"x" * 101, headers=bearer("registry:write"))

    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"


async def test_bulk_intake_uploads_have_their_own_limit(gateway_with) -> None:  # type: ignore[no-untyped-def]
    async with gateway_with(max_body_bytes=100, max_upload_bytes=1000) as http:
        upload = await http.post("/registry/imports", content=b"x" * 500, headers=bearer("registry:write"))
        too_big = await http.post("/registry/imports", content=b"x" * 1001, headers=bearer("registry:write"))

    assert upload.status_code != 413
    assert too_big.status_code == 413


async def test_health_and_metrics_need_no_token(gateway: httpx.AsyncClient) -> None:
    await gateway.get("/registry/divisions/1", headers=bearer("registry:read"))

    assert (await gateway.get("/healthz")).json()["status"] == "ok"
    metrics = await gateway.get("/metrics")
    assert metrics.status_code == 200
    assert "fupin_gateway_upstream_requests_total" in metrics.text


async def test_dot_segments_are_not_served(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/registry/divisions/%2E%2E/public-notice")

    assert answer.status_code == 404


async def test_a_large_upload_is_streamed_to_the_service_intact(gateway_with) -> None:  # type: ignore[no-untyped-def]
    content = b"".join(b"%07d,row of a county's intake file\n" % i for i in range(100_000))  # 3.6 MB

    async def chunked():  # type: ignore[no-untyped-def]
        for start in range(0, len(content), 50_000):
            yield content[start:start + 50_000]

    async with gateway_with(max_upload_bytes=len(content)) as http:
        declared = await http.post("/registry/imports", content=content, headers=bearer("registry:write"))
        streamed = await http.post("/registry/imports", content=chunked(), headers=bearer("registry:write"))

    for answer in (declared, streamed):
        assert answer.status_code == 200, answer.text[:300]
        assert answer.json()["body"].encode() == content
    assert declared.json()["headers"]["content-length"] == str(len(content))


async def test_an_upload_over_the_limit_is_413_while_it_streams(gateway_with) -> None:  # type: ignore[no-untyped-def]
    async def chunked():  # type: ignore[no-untyped-def]
        for _ in range(40):  # 400 KB without a Content-Length: counted as it is passed on
            yield b"x" * 10_000

    async with gateway_with(max_upload_bytes=300_000) as http:
        answer = await http.post("/registry/imports", content=chunked(), headers=bearer("registry:write"))
        after = await http.get("/registry/divisions/610723", headers=bearer("registry:read"))

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "payload_too_large"
    assert after.status_code == 200  # the pooled connection cut off mid-body is not reused


def test_a_proxied_route_is_labelled_by_service_and_template_without_ids() -> None:
    from gateway import proxy

    assert proxy.path_template("registry", "/registry/households/7f2c0e1a-1b2c/verifications") == \
        "/registry/households/{id}/verifications"
    assert proxy.path_template("finance", "/finance/jurisdictions/610723/years/2026/compliance") == \
        "/finance/jurisdictions/{id}/years/{id}/compliance"
    # a resident ID number, a name or an upper-case code never shows; nor does a deep path
    assert proxy.path_template("registry", "/registry/people/61072319800501123X") == "/registry/people/{id}"
    assert proxy.path_template("welfare", "/welfare/cases/王小明/H001") == "/welfare/cases/{id}/{id}"
    assert proxy.path_template("dashboard", "/dashboard/" + "/".join("a" * 10)) == \
        "/dashboard/a/a/a/a/a/a/a/a/{more}"


def test_route_labels_stay_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gateway import proxy

    monkeypatch.setattr(proxy, "_templates", set())
    monkeypatch.setattr(proxy, "MAX_TEMPLATES", 2)
    # refused before the service answered, or answered 404: not learnt
    assert proxy.route_label("registry", "/registry/households/1", answered=None) == "/registry/{unchecked}"
    assert proxy.route_label("registry", "/registry/nothing-here", answered=404) == "/registry/{not_found}"
    assert proxy.route_label("registry", "/registry/nothing", answered=502) == "/registry/{unchecked}"
    assert proxy.route_label("registry", "/registry/households/1", answered=200) == "/registry/households/{id}"
    assert proxy.route_label("registry", "/registry/households/2", answered=None) == "/registry/households/{id}"
    assert proxy.route_label("registry", "/registry/households/3", answered=404) == "/registry/{not_found}"
    assert proxy.route_label("finance", "/finance/accounts", answered=200) == "/finance/accounts"
    assert proxy.route_label("finance", "/finance/funds", answered=201) == "/finance/{other}"
    assert proxy._templates == {"/registry/households/{id}", "/finance/accounts"}


async def test_metrics_name_the_proxied_route(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.get("/registry/households/7f2c0e1a/members", headers=bearer("registry:read"))
    assert answer.status_code == 200
    metrics = (await gateway.get("/metrics")).text
    assert 'route="/registry/households/{id}/members"' in metrics
    assert "7f2c0e1a" not in metrics
    refused = await gateway.get("/medical/route-nobody-called/s-1", headers=bearer("registry:read"))
    assert refused.status_code == 403
    assert 'route="/medical/{unchecked}"' in (await gateway.get("/metrics")).text


def test_the_long_routes_have_their_own_timeouts_by_default() -> None:
    settings = gateway_config.Settings()
    assert settings.route_timeout("/finance/ledger/verify") == 120.0
    assert settings.route_timeout("/welfare/runs") == 300.0  # a monthly run of 100,000 cases: about 67 s
    assert settings.route_timeout("/welfare/cases") is None


async def test_a_route_may_have_its_own_upstream_timeout(gateway_with) -> None:  # type: ignore[no-untyped-def]
    """`upstream_route_timeouts` lets one route (by exact path) answer later than `upstream_timeout`; others 502."""
    async with gateway_with(upstream_timeout=0.3, upstream_route_timeouts={"/finance/ledger/verify": 5.0}) as http:
        slow = await http.get("/finance/ledger/verify", params={"echo_sleep": "0.8"}, headers=bearer("finance:read"))
        assert slow.status_code == 200, slow.text
        other = await http.get("/finance/accounts", params={"echo_sleep": "0.8"}, headers=bearer("finance:read"))
        assert other.status_code == 502 and other.json()["code"] == "upstream_unavailable"


async def test_calls_to_one_service_beyond_its_connections_wait_for_one(gateway_with, echo) -> None:  # type: ignore[no-untyped-def]
    """`upstream_connections_per_service`: a call finding every connection to its service busy waits for one (as
    long as the connect timeout allows: then 503, nothing reached the service); another service is not held up."""
    other_host = echo.url.replace("127.0.0.1", "localhost")  # another address: another service to the pool
    async with gateway_with(upstream_connections_per_service=1, upstream_connect_timeout=0.5,
                            medical_url=other_host) as http:
        slow = asyncio.create_task(http.get("/registry/households", params={"echo_sleep": "3"},
                                            headers=bearer("registry:read")))
        await asyncio.sleep(1.0)  # the slow call holds registry's one connection
        waited = await http.get("/registry/divisions/610723", headers=bearer("registry:read"))
        elsewhere = await http.get("/medical/settlements/1", headers=bearer("medical:read"))
        assert (await slow).status_code == 200
        after = await http.get("/registry/divisions/610723", headers=bearer("registry:read"))

    assert waited.status_code == 503, waited.text
    assert waited.json()["code"] == "upstream_unavailable" and waited.headers["retry-after"] == "1"
    assert elsewhere.status_code == 200
    assert after.status_code == 200

