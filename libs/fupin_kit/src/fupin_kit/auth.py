"""Bearer token verification in every service: none trusts the network, each checks the gateway's signature."""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, Request

from fupin_kit.errors import AppError


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
    def __init__(self, public_key: str | Any, *, issuer: str, audience: str) -> None:
        # parse the PEM once: PyJWT would otherwise parse it again on every request
        self._key: Any = load_pem_public_key(public_key.encode()) if isinstance(public_key, str) else public_key
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> Principal:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=["RS256"], issuer=self._issuer, audience=self._audience,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise unauthorized("the access token is invalid") from exc
        return Principal(claims["sub"], frozenset(str(claims.get("scope", "")).split()), claims.get("bank_code"),
                         claims.get("division"), hospitals_claim(claims.get("hospitals")))


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
