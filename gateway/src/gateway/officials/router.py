"""`POST /auth/login`, `POST /auth/logout`, `GET /auth/me` (contract §9)."""

import datetime as dt
import math

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from fupin_kit.errors import problem
from gateway.officials import rules, service
from gateway.officials.demo import ensure_demo_officials
from gateway.officials.session import COOKIE, csrf_ok, session_cookie
from gateway.runtime import runtime

router = APIRouter(prefix="/auth", tags=["officials"])
NO_STORE = {"Cache-Control": "no-store"}


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class OfficialOut(BaseModel):
    username: str
    division_code: str
    role: str


def _unauthorized(detail: str) -> JSONResponse:
    return problem(401, "unauthorized", detail, headers=NO_STORE)


@router.post("/login", response_model=OfficialOut, summary="An official logs in: a session cookie for 8 hours",
             responses={401: {"description": "invalid_credentials"}, 429: {"description": "rate_limited"}})
async def login(body: LoginIn, request: Request) -> Response:
    rt = runtime(request)
    async with rt.db.session() as db:
        if rt.settings.profile == "dev":
            await ensure_demo_officials(db)
        try:
            outcome = await service.login(db, username=body.username, password=body.password)
        except service.Locked as locked:
            wait = max(1, math.ceil((locked.until - dt.datetime.now(dt.UTC)).total_seconds()))
            return problem(429, "rate_limited", f"too many failed logins; the account is locked for {wait} s",
                           headers={"Retry-After": str(wait), **NO_STORE})
    if outcome is None:
        return problem(401, "invalid_credentials", "unknown username or wrong password", headers=NO_STORE)
    who, token = outcome
    response = JSONResponse(who.body(), headers=NO_STORE)
    response.set_cookie(COOKIE, token, max_age=int(rules.SESSION_LIFETIME.total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=rt.settings.profile != "dev")
    return response


@router.post("/logout", status_code=204, summary="End the session")
async def logout(request: Request) -> Response:
    token = session_cookie(request.headers.raw)
    if token is not None and not csrf_ok(request.method, request.headers.raw):
        return problem(403, "forbidden", "logging out with the session cookie needs the header X-Requested-With: fupin")
    rt = runtime(request)
    if token is not None:
        async with rt.db.session() as db:
            await service.logout(db, token)
    response = Response(status_code=204, headers=NO_STORE)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=rt.settings.profile != "dev")
    return response


@router.get("/me", response_model=OfficialOut, summary="The logged-in official, or 401")
async def me(request: Request) -> Response:
    token = session_cookie(request.headers.raw)
    if token is None:
        return _unauthorized("no session")
    async with runtime(request).db.session() as db:
        who = await service.identity(db, token)
    if who is None:
        return _unauthorized("the session has ended or expired")
    return JSONResponse(who.body(), headers=NO_STORE)
