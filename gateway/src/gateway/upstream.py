"""HTTP forwarding to the services over one pooled client: path, query, body and end-to-end headers unchanged."""

import httpx
from prometheus_client import Counter
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from fupin_kit.errors import problem
from fupin_kit.observability import REQUEST_ID_HEADER, request_id_var

UPSTREAM_REQUESTS = Counter("fupin_gateway_upstream_requests_total", "Calls forwarded to a service",
                            ["service", "status"])

# RFC 9110 §7.6.1 hop-by-hop fields, plus what the gateway sets itself on each side.
HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
              b"trailers", b"transfer-encoding", b"upgrade", b"proxy-connection"}
NOT_FORWARDED = HOP_BY_HOP | {b"host", b"content-length", REQUEST_ID_HEADER.encode(), b"x-forwarded-for",
                              b"x-forwarded-host", b"x-forwarded-proto"}
NOT_RETURNED = HOP_BY_HOP | {REQUEST_ID_HEADER.encode(), b"date", b"server"}


class BodyTooLarge(Exception):
    pass


def build_client(*, connect_timeout: float, timeout: float, max_connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=connect_timeout, pool=connect_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections // 2),
        follow_redirects=False, trust_env=False)


def _connection_tokens(raw: list[tuple[bytes, bytes]]) -> set[bytes]:
    """Fields named in a Connection header are hop-by-hop too."""
    return {t.strip().lower() for k, v in raw if k.lower() == b"connection" for t in v.split(b",")}


def request_headers(request: Request) -> list[tuple[bytes, bytes]]:
    raw = request.headers.raw
    dropped = NOT_FORWARDED | _connection_tokens(raw)
    headers = [(k, v) for k, v in raw if k.lower() not in dropped]
    client = request.client.host if request.client else ""
    previous = request.headers.get("x-forwarded-for")
    headers += [(REQUEST_ID_HEADER.encode(), request_id_var.get().encode()),
                (b"x-forwarded-for", (f"{previous}, {client}" if previous else client).encode()),
                (b"x-forwarded-proto", request.url.scheme.encode()),
                (b"x-forwarded-host", request.headers.get("host", "").encode())]
    return headers


def upstream_path(request: Request) -> bytes:
    """The path exactly as the caller encoded it (ASGI raw_path; some servers include the query: cut it)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    return raw.split(b"?", 1)[0]


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def forward(client: httpx.AsyncClient, *, service: str, base_url: str, request: Request, path: bytes,
                  body: bytes, timeout: float | None = None) -> Response:
    """Send the request to `base_url` + `path` and stream the answer back; 503/502 when the service fails us."""
    query = request.scope.get("query_string", b"")
    url = httpx.URL(base_url).copy_with(raw_path=path + (b"?" + query if query else b""))
    outgoing = client.build_request(request.method, url, headers=request_headers(request), content=body,
                                    timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout)
    try:
        answer = await client.send(outgoing, stream=True)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # Nothing reached the service: the caller may simply retry.
        UPSTREAM_REQUESTS.labels(service, "unavailable").inc()
        return problem(503, "upstream_unavailable", f"the {service} service is not reachable ({type(exc).__name__})",
                       headers={"Retry-After": "1"}, service=service)
    except httpx.HTTPError as exc:
        # The service may have acted on the request: a retry should carry the same Idempotency-Key.
        UPSTREAM_REQUESTS.labels(service, "failed").inc()
        return problem(502, "upstream_unavailable", f"the {service} service did not answer ({type(exc).__name__})",
                       service=service)
    UPSTREAM_REQUESTS.labels(service, str(answer.status_code)).inc()
    dropped = NOT_RETURNED | _connection_tokens(answer.headers.raw)
    response = StreamingResponse(answer.aiter_raw(), status_code=answer.status_code,
                                 background=BackgroundTask(answer.aclose))
    response.raw_headers = [(k.lower(), v) for k, v in answer.headers.raw if k.lower() not in dropped]
    return response
