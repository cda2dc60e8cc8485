"""HTTP forwarding to the services over one pooled aiohttp session: path, query, body and end-to-end headers unchanged.

Request bodies up to `SMALL_BODY_BYTES` (every JSON call) are read whole and sent as one body (the audit reads them);
longer ones (bulk intake uploads) are streamed to the service as they arrive, counted against the route's limit, never
held in memory: over the limit the call is cut off and answered 413.

aiohttp, not httpx, for the hop: under load httpx/httpcore spent most of the gateway's time in connection-pool
bookkeeping (and, without sniffio installed, re-ran a failing import on every request). Answers with a declared
length up to `BUFFERED_MAX_BYTES` (every JSON answer) are read whole and sent as one body; longer or chunked
answers (exports) are streamed.
"""


from collections.abc import AsyncIterator

import aiohttp
import httpx
from prometheus_client import Counter
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from yarl import URL

from fupin_kit import telemetry
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
# Headers aiohttp would add on its own: the service sees what the caller sent, nothing more.
NOT_ADDED = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
TRACEPARENT = telemetry.TRACEPARENT.encode()
BUFFERED_MAX_BYTES = 1_048_576
SMALL_BODY_BYTES = 65_536
# uvicorn closes an idle keep-alive connection after 5 s: drop ours before, so a POST never meets a closed socket.
KEEPALIVE_SECONDS = 4.0


class BodyTooLarge(Exception):
    pass


class Upstream:
    """The one pooled client of the proxy hop; its session is made on first use, inside the running loop."""

    def __init__(self, *, connect_timeout: float, timeout: float, max_connections: int,
                 per_service: int | None = None, keepalive_seconds: float = KEEPALIVE_SECONDS) -> None:
        self._connect_timeout, self._timeout = connect_timeout, timeout
        self._max_connections, self._keepalive_seconds = max_connections, keepalive_seconds
        self._per_service = per_service or 0  # aiohttp: 0 = no limit per host
        self._session: aiohttp.ClientSession | None = None
        # waiting for a free pooled connection counts as connecting (503, the call never left): like httpx's pool
        self.default_timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=timeout)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # limit_per_host: per (host, port), i.e. per service (config.Settings.upstream_connections_per_service)
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=self._per_service,
                                             keepalive_timeout=self._keepalive_seconds, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.default_timeout, auto_decompress=False, trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=NOT_ADDED, raise_for_status=False)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def build_client(*, connect_timeout: float, timeout: float, max_connections: int) -> httpx.AsyncClient:
    """The httpx client of the low-volume calls (service status, aggregated docs); the proxy hop uses `Upstream`."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=connect_timeout, pool=connect_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections // 2),
        follow_redirects=False, trust_env=False)


def _connection_tokens(raw: list[tuple[bytes, bytes]]) -> set[bytes]:
    """Fields named in a Connection header are hop-by-hop too."""
    return {t.strip().lower() for k, v in raw if k.lower() == b"connection" for t in v.split(b",")}


def request_headers(request: Request) -> list[tuple[str, str]]:
    scope = request.scope
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    dropped = NOT_FORWARDED | _connection_tokens(raw)
    # A call the gateway's tracing left out: the client's instrumentation is off for it and adds no traceparent, so
    # the gateway sends its unsampled one (flags 00), and the service follows that decision (fupin_kit.telemetry).
    unsampled = telemetry.unsampled_traceparent()
    if unsampled is not None:
        dropped = dropped | {TRACEPARENT}
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw if k.lower() not in dropped]
    if unsampled is not None:
        headers.append((telemetry.TRACEPARENT, unsampled))
    client = scope["client"][0] if scope.get("client") else ""
    previous = request.headers.get("x-forwarded-for")
    headers += [(REQUEST_ID_HEADER, request_id_var.get()),
                ("x-forwarded-for", f"{previous}, {client}" if previous else client),
                ("x-forwarded-proto", scope.get("scheme", "http")),
                ("x-forwarded-host", request.headers.get("host", ""))]
    return headers


def upstream_path(request: Request) -> bytes:
    """The path exactly as the caller encoded it (ASGI raw_path; some servers include the query: cut it)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    return raw.split(b"?", 1)[0]


class StreamedBody:
    """A request body longer than `SMALL_BODY_BYTES`, passed on to the service as it arrives. `exceeded` is set when
    it passed the limit (the generator then raises `BodyTooLarge`, which cuts the call to the service off)."""

    def __init__(self, first: list[bytes], rest: AsyncIterator[bytes], size: int, limit: int,
                 declared: int | None) -> None:
        self._first, self._rest, self.size, self.limit, self.declared = first, rest, size, limit, declared
        self.exceeded = False

    async def chunks(self) -> AsyncIterator[bytes]:
        for chunk in self._first:
            yield chunk
        self._first = []
        async for chunk in self._rest:
            self.size += len(chunk)
            if self.size > self.limit:
                self.exceeded = True
                raise BodyTooLarge()
            if chunk:
                yield chunk


async def take_body(request: Request, limit: int) -> bytes | StreamedBody:
    """The whole body when it is short, else a `StreamedBody` of it; `BodyTooLarge` past the limit. A declared
    length over the limit is refused before anything is read."""
    declared_text = request.headers.get("content-length")
    declared = int(declared_text) if declared_text and declared_text.isdigit() else None
    if declared is not None and declared > limit:
        raise BodyTooLarge()
    stream = request.stream().__aiter__()
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if size > SMALL_BODY_BYTES:
            return StreamedBody(chunks, stream, size, limit, declared)
    return b"".join(chunks)


def _returned_headers(raw: tuple[tuple[bytes, bytes], ...]) -> list[tuple[bytes, bytes]]:
    dropped = NOT_RETURNED | _connection_tokens(list(raw))
    return [(k.lower(), v) for k, v in raw if k.lower() not in dropped]


def _too_large(limit: int) -> Response:
    return problem(413, "payload_too_large", f"request bodies on this route are limited to {limit} bytes")


async def forward(client: Upstream, *, service: str, base_url: str, request: Request, path: bytes,
                  body: bytes | StreamedBody, timeout: float | None = None,
                  read_timeout: float | None = None) -> Response:
    """Send the request to `base_url` + `path` and return the answer; 503/502 when the service fails us. `timeout`
    caps the whole call; `read_timeout` replaces the client's idle-read timeout (a route's own allowance)."""
    query = request.scope.get("query_string", b"")
    target = (path + (b"?" + query if query else b"")).decode("latin-1")
    url = URL(base_url + target, encoded=True)
    call_timeout = client.default_timeout if timeout is None else aiohttp.ClientTimeout(
        total=timeout, connect=min(timeout, client.default_timeout.connect or timeout))
    if read_timeout is not None:  # a route's own allowance to answer (idle read), connect as every call
        call_timeout = aiohttp.ClientTimeout(total=None, connect=client.default_timeout.connect,
                                             sock_read=read_timeout)
    headers = request_headers(request)
    data: bytes | AsyncIterator[bytes] | None
    if isinstance(body, StreamedBody):
        data = body.chunks()
        if body.declared is not None:  # the service sees the length the caller declared, not chunks
            headers.append(("Content-Length", str(body.declared)))
    else:
        data = body or None
    try:
        answer = await client.session.request(request.scope["method"], url, headers=headers, data=data,
                                              allow_redirects=False, timeout=call_timeout)
    except Exception as exc:
        if isinstance(body, StreamedBody) and body.exceeded:
            UPSTREAM_REQUESTS.labels(service, "too_large").inc()
            return _too_large(body.limit)
        return _failed(service, exc)
    if isinstance(body, StreamedBody) and body.exceeded:  # the service answered before the body was cut off
        answer.close()
        return _too_large(body.limit)
    return await _answer(service, answer)


def _failed(service: str, exc: Exception) -> Response:
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        # Nothing reached the service: the caller may simply retry.
        UPSTREAM_REQUESTS.labels(service, "unavailable").inc()
        return problem(503, "upstream_unavailable", f"the {service} service is not reachable ({type(exc).__name__})",
                       headers={"Retry-After": "1"}, service=service)
    if isinstance(exc, (TimeoutError, aiohttp.ClientError)):
        # The service may have acted on the request: a retry should carry the same Idempotency-Key.
        UPSTREAM_REQUESTS.labels(service, "failed").inc()
        return problem(502, "upstream_unavailable", f"the {service} service did not answer ({type(exc).__name__})",
                       service=service)
    raise exc


async def _answer(service: str, answer: aiohttp.ClientResponse) -> Response:
    UPSTREAM_REQUESTS.labels(service, str(answer.status)).inc()
    headers = _returned_headers(answer.raw_headers)
    length = answer.content_length
    if length is not None and length <= BUFFERED_MAX_BYTES:
        try:
            content = await answer.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            return problem(502, "upstream_unavailable",
                           f"the {service} service broke off its answer ({type(exc).__name__})", service=service)
        finally:
            answer.release()
        response = Response(content, status_code=answer.status)
    else:
        response = StreamingResponse(answer.content.iter_any(), status_code=answer.status,
                                     background=BackgroundTask(answer.release))
    response.raw_headers = headers
    return response
