"""Bearer token verification in every service: none trusts the network, each checks the gateway's signature."""

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, Request
from jwt.algorithms import RSAAlgorithm

from fupin_kit.errors import AppError

log = logging.getLogger("fupin.auth")


@dataclass(frozen=True)
class Principal:
    client_id: str
    scopes: frozenset[str]
    bank_code: str | None = None
    # An official's division (contract §9): the gateway mints it into session tokens; None = no subtree limit.
    division: str | None = None
    # The hospitals an HIS client acts for (contract §0, the `hospitals` claim): None = every hospital (`["*"]`),
    # an empty set = none (a token without the claim acts for no hospital: fail closed).
    hospitals: frozenset[str] | None = frozenset()

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def acts_for_hospital(self, code: str) -> bool:
        return self.hospitals is None or code in self.hospitals


def hospitals_claim(value: Any) -> frozenset[str] | None:
    """`["*"]` → None (all); a list of codes → those; anything else (absent, malformed) → none."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return frozenset()
    return None if "*" in value else frozenset(value)


class TokenVerifier:
    """Verifies the gateway's RS256 tokens by their `kid` against the gateway's JWKS (fetched, cached, fetched again
    when an unknown `kid` shows up: keys rotate without a restart, docs/security.md), or against a configured public
    key (tokens without a `kid`, tests, bootstrapping). A verified token is remembered by its hash until it expires,
    so a client's repeated calls cost one RSA verification per token, not per request."""

    def __init__(self, public_key: str | Any | None = None, *, issuer: str, audience: str,
                 jwks_url: str | None = None, jwks_timeout: float = 2.0, jwks_min_interval: float = 10.0,
                 cache_size: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        if public_key is None and jwks_url is None:
            raise ValueError("a token verifier needs a public key or the gateway's JWKS URL")
        # parse the PEM once: PyJWT would otherwise parse it again on every request
        self._key: Any = load_pem_public_key(public_key.encode()) if isinstance(public_key, str) else public_key
        self._static_kid = _thumbprint(self._key) if self._key is not None else None
        self._issuer = issuer
        self._audience = audience
        self._jwks_url = jwks_url
        self._jwks_timeout = jwks_timeout
        self._jwks_min_interval = jwks_min_interval
        self._jwks_fetched_at: float | None = None
        self._keys: dict[str, Any] = {}
        self._cache: dict[bytes, tuple[Principal, float]] = {}
        self._cache_size = cache_size
        self._clock = clock

    def verify(self, token: str) -> Principal:
        digest = hashlib.sha256(token.encode()).digest()
        cached = self._cache.get(digest)
        if cached is not None:
            principal, expires = cached
            if self._clock() < expires:
                return principal
            del self._cache[digest]
        try:
            key = self._key_for(jwt.get_unverified_header(token).get("kid"))
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["RS256"], issuer=self._issuer, audience=self._audience,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise unauthorized("the access token is invalid") from exc
        principal = Principal(claims["sub"], frozenset(str(claims.get("scope", "")).split()), claims.get("bank_code"),
                              claims.get("division"), hospitals_claim(claims.get("hospitals")))
        self._remember(digest, principal, float(claims["exp"]))
        return principal

    def _remember(self, digest: bytes, principal: Principal, expires: float) -> None:
        if len(self._cache) >= self._cache_size:
            now = self._clock()
            for stale in [d for d, (_, exp) in self._cache.items() if exp <= now]:
                del self._cache[stale]
            while len(self._cache) >= self._cache_size:  # still full: forget the oldest
                del self._cache[next(iter(self._cache))]
        self._cache[digest] = (principal, expires)

    def _key_for(self, kid: Any) -> Any:
        if not isinstance(kid, str) or not kid:
            if self._key is None:
                raise jwt.InvalidTokenError("the token names no key (kid)")
            return self._key
        if kid in self._keys:
            return self._keys[kid]
        if kid == self._static_kid:
            return self._key
        self._refresh_jwks()
        if kid in self._keys:
            return self._keys[kid]
        raise jwt.InvalidTokenError("the token's key (kid) is not one of the gateway's")

    def _refresh_jwks(self) -> None:
        """Fetch the JWKS again, at most once per `jwks_min_interval` (unknown kids cannot make us hammer the
        gateway). Keys no longer published are forgotten: a retired key stops verifying."""
        now = self._clock()
        if self._jwks_url is None or (self._jwks_fetched_at is not None
                                      and now - self._jwks_fetched_at < self._jwks_min_interval):
            return
        self._jwks_fetched_at = now
        try:
            answer = httpx.get(self._jwks_url, timeout=self._jwks_timeout)
            answer.raise_for_status()
            keys = {str(k["kid"]): RSAAlgorithm.from_jwk(k) for k in answer.json()["keys"]
                    if k.get("kty") == "RSA" and k.get("kid") and k.get("use", "sig") == "sig"}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("fetching the gateway's JWKS failed (%s); keeping the keys known so far",
                        type(exc).__name__)
            return
        self._keys = keys


def _thumbprint(public_key: Any) -> str:
    """RFC 7638 JWK thumbprint: the key id the gateway gives the same key."""
    jwk = json.loads(RSAAlgorithm.to_jwk(public_key))
    canonical = json.dumps({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def unauthorized(detail: str) -> AppError:
    return AppError(401, "unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="fupin"'})


def principal_from_request(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(token.strip())


def require_any_scope(*scopes: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """Dependency: a verified principal holding at least one of `scopes` (401 without a valid token, else 403)."""

    async def dependency(request: Request) -> Principal:
        principal = principal_from_request(request)
        if not principal.scopes.intersection(scopes):
            raise AppError(403, "forbidden", f"this route needs one of the scopes: {' '.join(scopes)}")
        return principal

    return dependency


def scoped(*scopes: str) -> Any:
    """`Annotated[Principal, scoped("registry:read")]` for handler signatures."""
    return Depends(require_any_scope(*scopes))


def PrincipalWith(*scopes: str) -> Any:  # noqa: N802 - reads like a type in signatures
    return Annotated[Principal, scoped(*scopes)]
