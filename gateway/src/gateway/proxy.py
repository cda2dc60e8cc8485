"""The five route prefixes: who may pass (token, scope family, rate limit), the audit record, the forwarding."""

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping

from fastapi import APIRouter, Request
from prometheus_client import Counter
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from fupin_kit.auth import Principal, principal_from_request
from fupin_kit.errors import AppError, problem
from fupin_kit.observability import request_id_var
from gateway.audit import AuditEntry, AuditFull, subject_of, touches_personal_data, which_hospital, whose_data
from gateway.config import SERVICES
from gateway.runtime import Runtime, caller_ip, runtime
from gateway.upstream import BodyTooLarge, forward, take_body, upstream_path

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
RATE_LIMITED = Counter("fupin_gateway_rate_limited_total", "Calls refused with 429", ["client"])
# How long a service's /readyz may take, for /<service>/readyz and /status alike (CI's loaded machine needed more
# than the 2 s /status allowed once)
READINESS_TIMEOUT = 3.0

# The request log's and metrics' `route` of a proxied call: the service and a templated path. A segment stays literal
# only if it is a lowercase word (a route's own name: households, verifications, public-notice); anything else (ids,
# codes, years, numbers, names in any script) is `{id}`; at most MAX_SEGMENTS segments. A template is learnt only from
# a call the service answered (not 404: perhaps no such route; not the gateway's own 502/504), at most MAX_TEMPLATES
# of them; a call refused before it reached the service (401, 403, 429) shows a learnt template or `{unchecked}`.
_LITERAL = re.compile(r"^[a-z][a-z_-]{0,39}$")
MAX_SEGMENTS = 8
MAX_TEMPLATES = 500
UNVERIFIED_STATUSES = frozenset({404, 502, 504})
_templates: set[str] = set()


def path_template(service: str, path: str) -> str:
    """`/registry/households/7f2c.../verifications` → `/registry/households/{id}/verifications` (no id, no personal
    data)."""
    segments = path.strip("/").split("/")[1:]
    shown = [s if _LITERAL.match(s) else "{id}" for s in segments[:MAX_SEGMENTS]]
    if len(segments) > MAX_SEGMENTS:
        shown.append("{more}")
    return "/".join(["", service, *shown])


def route_label(service: str, path: str, *, answered: int | None) -> str:
    """The label of a call: its template once the service answered it (`answered`: the status), else a template
    already learnt or a fixed placeholder, so the number of distinct labels stays bounded."""
    template = path_template(service, path)
    if template in _templates:
        return f"/{service}/{{not_found}}" if answered == 404 else template
    if answered is None:
        return f"/{service}/{{unchecked}}"
    if answered in UNVERIFIED_STATUSES:
        return f"/{service}/{{not_found}}" if answered == 404 else f"/{service}/{{unchecked}}"
    if len(_templates) >= MAX_TEMPLATES:
        return f"/{service}/{{other}}"
    _templates.add(template)
    return template


class RouteLabel:
    """What the kit's request log, metrics and server span read as the matched route (`scope["route"].path`)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


def label_route(request: Request, service: str, answered: int | None = None) -> None:
    request.scope["route"] = RouteLabel(route_label(service, request.url.path, answered=answered))


# Contract §1 and §5: the two routes anyone may read without a token.
PUBLIC_ROUTES = (re.compile(r"^/registry/divisions/[^/]+/public-notice$"),
                 re.compile(r"^/finance/disclosures/[^/]+$"))


def is_public(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") and any(p.match(path) for p in PUBLIC_ROUTES)


def holds_service_scope(principal: Principal, service: str) -> bool:
    """Any `<service>:*` scope lets a call through; the service checks the exact scope of its route."""
    return any(scope.startswith(f"{service}:") for scope in principal.scopes)


def rate_limited(rt: Runtime, key: str, label: str) -> Response | None:
    wait = rt.client_limits.take(key)
    if not wait:
        return None
    RATE_LIMITED.labels(label).inc()
    return problem(429, "rate_limited", f"rate limit exceeded; retry in {wait} s", headers={"Retry-After": str(wait)})


class AuditedCall:
    """Records an authenticated call on a personal-data route once its outcome is known."""

    def __init__(self, rt: Runtime, request: Request, service: str, principal: Principal) -> None:
        self.rt, self.request, self.service, self.client_id = rt, request, service, principal.client_id
        self.enabled = touches_personal_data(service, request.url.path)
        self.started = dt.datetime.now(dt.UTC)
        self.body = b""  # the request body once read: whose data (pseudonym) and which hospital

    def record(self, status: int, answer_headers: Mapping[str, str] | None = None) -> None:
        if not self.enabled:
            return
        path = self.request.url.path
        person_ref = (whose_data(self.body, self.rt.settings.pseudonym_key.get_secret_value())
                      if self.request.method == "POST" else None)
        self.rt.audit.record(AuditEntry(
            occurred_at=self.started, client_id=self.client_id, method=self.request.method, service=self.service,
            path=path, subject=subject_of(path), status=status, request_id=request_id_var.get(),
            person_ref=person_ref, hospital_code=which_hospital(self.body, answer_headers)))


async def _pass_through(rt: Runtime, request: Request, service: str, call: AuditedCall | None = None) -> Response:
    limit = rt.settings.body_limit(request.url.path)
    try:
        # a short body whole (the audit reads it); a long one (an upload) streamed to the service as it arrives
        body = await take_body(request, limit)
        if call is not None and call.enabled and isinstance(body, bytes):
            call.body = body
    except BodyTooLarge:
        return problem(413, "payload_too_large", f"request bodies on this route are limited to {limit} bytes")
    request.state.forwarded = True
    return await forward(rt.upstream, service=service, base_url=rt.settings.upstream_url(service), request=request,
                         path=upstream_path(request), body=body,
                         read_timeout=rt.settings.route_timeout(request.url.path))


async def _guarded(request: Request, service: str) -> Response:
    label_route(request, service)  # what a refusal (raised before the service answered) is logged as
    response = await _checked(request, service)
    label_route(request, service, response.status_code if getattr(request.state, "forwarded", False) else None)
    return response


async def _checked(request: Request, service: str) -> Response:
    rt = runtime(request)
    if any(segment in (".", "..") for segment in request.url.path.split("/")):
        # Dot segments would make the route the gateway checked differ from the one a normalising hop serves.
        return problem(404, "not_found", "paths with '.' or '..' segments are not served")
    if is_public(request.method, request.url.path):
        return rate_limited(rt, f"ip:{caller_ip(request)}", "anonymous") or await _pass_through(rt, request, service)
    principal = principal_from_request(request)  # 401 problem+json with WWW-Authenticate
    call = AuditedCall(rt, request, service, principal)
    if not holds_service_scope(principal, service):
        call.record(403)
        raise AppError(403, "forbidden", f"this token holds no {service}:* scope")
    if refused := rate_limited(rt, principal.client_id, principal.client_id):
        call.record(429)
        return refused
    if call.enabled:
        try:
            rt.audit.ensure_capacity()
        except AuditFull:
            return problem(503, "audit_unavailable", "the audit log cannot be written; personal data is not served",
                           headers={"Retry-After": "5"})
    response = await _pass_through(rt, request, service, call)
    call.record(response.status_code, response.headers)
    return response


def _readiness_route(service: str) -> Callable[[Request], Awaitable[Response]]:
    async def service_readiness(request: Request) -> Response:
        rt = runtime(request)
        return await forward(rt.upstream, service=service, base_url=rt.settings.upstream_url(service), request=request,
                             path=b"/readyz", body=b"", timeout=READINESS_TIMEOUT)

    service_readiness.__name__ = f"{service}_readiness"
    return service_readiness


class ProxyDispatch:
    """The proxied prefixes (`/<service>/...`) straight to the proxy, ahead of the app's router: FastAPI matched every
    route of every included router (twice) before reaching the proxy's, a third of the gateway's time per call. It
    sits inside the request context and the session-cookie middleware; AppErrors are rendered by the app's handlers as
    on any route. `/<service>/readyz` (GET, HEAD) and every other path go on to the router."""

    def __init__(self, app: ASGIApp, services: Iterable[str]) -> None:
        self.app = app
        self.services = frozenset(services)
        self._proxy: ASGIApp | None = None

    def service_of(self, scope: Scope) -> str | None:
        if scope["type"] != "http":
            return None
        path: str = scope["path"]
        service, slash, rest = path[1:].partition("/")
        if not slash or service not in self.services:
            return None
        if rest == "readyz" and scope["method"] in ("GET", "HEAD"):
            return None
        return service

    def proxy(self, scope: Scope) -> ASGIApp:
        if self._proxy is None:  # the app's handlers, as Starlette's own stack passes them (500s stay outermost)
            handlers = {k: v for k, v in scope["app"].exception_handlers.items() if k not in (500, Exception)}
            self._proxy = ExceptionMiddleware(request_response(_proxied), handlers=handlers)
        return self._proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.service_of(scope) is None:
            await self.app(scope, receive, send)
            return
        await self.proxy(scope)(scope, receive, send)


async def _proxied(request: Request) -> Response:
    if request.method not in METHODS:
        raise HTTPException(405, headers={"Allow": ", ".join(METHODS)})
    service = request.url.path[1:].partition("/")[0]
    return await _guarded(request, service)


router = APIRouter()
for _service in SERVICES:
    router.add_api_route(f"/{_service}/readyz", _readiness_route(_service), methods=["GET"], include_in_schema=False)
