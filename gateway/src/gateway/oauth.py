"""`POST /oauth/token` (RFC 6749 §4.4 client credentials) and `GET /.well-known/jwks.json`."""

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from anyio import to_thread
from fastapi import APIRouter, Request
from prometheus_client import Counter
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from fupin_kit.errors import problem
from gateway.clients import Client
from gateway.runtime import Runtime, caller_ip, runtime

TOKENS_ISSUED = Counter("fupin_gateway_tokens_issued_total", "Access tokens issued", ["client"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

router = APIRouter(tags=["oauth"])


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class OAuthError(Exception):
    """An RFC 6749 §5.2 error, rendered as problem+json whose `code` (and `error`) is the RFC's error code."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers

    def response(self) -> Response:
        return problem(self.status, self.error, self.detail, headers={**NO_STORE, **(self.headers or {})},
                       error=self.error, error_description=self.detail)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid_client("the Basic credentials are not base64 of client_id:client_secret", True) from exc
    if not sep:
        raise _invalid_client("the Basic credentials are not base64 of client_id:client_secret", True)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return unquote_plus(client_id), unquote_plus(secret)


def _invalid_client(detail: str, basic: bool) -> OAuthError:
    return OAuthError(401, "invalid_client", detail,
                      headers={"WWW-Authenticate": 'Basic realm="fupin"'} if basic else None)


def _credentials(request: Request, form: Any) -> tuple[str, str, bool]:
    basic = _basic_credentials(request)
    in_form = form.get("client_id") is not None or form.get("client_secret") is not None
    if basic and form.get("client_secret") is not None:
        raise OAuthError(400, "invalid_request", "send the client credentials once: Basic header or form, not both")
    if basic:
        return basic[0], basic[1], True
    if not in_form:
        raise _invalid_client("client authentication is required (Basic header or client_id/client_secret)", False)
    return str(form.get("client_id") or ""), str(form.get("client_secret") or ""), False


def _granted_scopes(client: Client, requested: str | None) -> frozenset[str]:
    """The requested scopes when all are the client's (all of the client's when none is asked), else invalid_scope."""
    wanted = frozenset((requested or "").split())
    if not wanted:
        return client.scopes
    if extra := wanted - client.scopes:
        raise OAuthError(400, "invalid_scope", f"scopes not granted to this client: {' '.join(sorted(extra))}")
    return wanted


def _failure_keys(request: Request, client_id: str) -> tuple[str, str]:
    """Failed secrets are counted per (claimed client, source address), and per source address across clients."""
    ip = caller_ip(request)
    return f"pair:{client_id}|{ip}", f"ip:{ip}"


def _throttle(rt: Runtime, request: Request, client_id: str) -> None:
    """Only failed secrets spend the budget, so a correct secret is never slowed by successes, and others failing
    in a client's name from elsewhere cannot lock it out (the bucket is per source address). While a pair (or an
    address) is over its budget the secret is not even checked: guessing goes no faster than the budget."""
    wait = max(rt.token_limits.blocked(key) for key in _failure_keys(request, client_id))
    if wait:
        raise OAuthError(429, "rate_limited", f"too many failed token requests; retry in {wait} s",
                         headers={"Retry-After": str(wait)})


def _failed(rt: Runtime, request: Request, client_id: str) -> None:
    for key in _failure_keys(request, client_id):
        rt.token_limits.take(key)


async def _form(request: Request, limit: int) -> Any:
    """The form body, refused past `limit` bytes before it is parsed (the token endpoint takes a few fields)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise OAuthError(413, "payload_too_large", f"token requests are limited to {limit} bytes")
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise OAuthError(413, "payload_too_large", f"token requests are limited to {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # starlette parses the form from the cached body
    try:
        return await request.form(max_files=0, max_fields=20)
    except Exception as exc:  # a malformed multipart body or too many fields
        raise OAuthError(400, "invalid_request", "the body is not a valid form") from exc


async def _issue(request: Request) -> TokenAnswer:
    rt = runtime(request)
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise OAuthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
    form = await _form(request, rt.settings.token_max_body_bytes)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError(400, "invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", "only grant_type=client_credentials is supported")
    client_id, secret, basic = _credentials(request, form)
    _throttle(rt, request, client_id)
    client = await to_thread.run_sync(rt.clients.authenticate, client_id, secret, limiter=rt.secret_checks)
    if client is None:
        _failed(rt, request, client_id)
        raise _invalid_client("unknown client or wrong secret", basic)
    requested = form.get("scope")
    scopes = _granted_scopes(client, requested if isinstance(requested, str) else None)
    TOKENS_ISSUED.labels(client.client_id).inc()
    return TokenAnswer(access_token=rt.issuer.issue(client, scopes), expires_in=rt.issuer.ttl_seconds,
                       scope=" ".join(sorted(scopes)))


@router.post("/oauth/token", response_model=TokenAnswer, summary="Client-credentials access token",
             openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                 "type": "object", "required": ["grant_type"], "properties": {
                     "grant_type": {"type": "string", "enum": ["client_credentials"]},
                     "client_id": {"type": "string"}, "client_secret": {"type": "string"},
                     "scope": {"type": "string", "description": "space-separated subset of the client's scopes"}}}}},
                 "required": True}})
async def token(request: Request) -> Response:
    try:
        answer = await _issue(request)
    except OAuthError as exc:
        return exc.response()
    return JSONResponse(answer.model_dump(), headers=NO_STORE)


@router.get("/.well-known/jwks.json", summary="Public keys that verify the access tokens")
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(runtime(request).issuer.jwks, headers={"Cache-Control": "public, max-age=300"})
