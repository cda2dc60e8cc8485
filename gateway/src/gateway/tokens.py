"""Access tokens: RS256 JWTs with the claims of docs/conventions.md "Tokens", and the JWKS that verifies them."""

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from gateway.clients import Client


class TokenIssuer:
    def __init__(self, private_key_pem: str, *, issuer: str, audience: str, ttl_seconds: int,
                 public_key_pem: str | None = None, previous_public_keys_pem: tuple[str, ...] = ()) -> None:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("FUPIN_JWT_PRIVATE_KEY_FILE must hold an RSA private key (RS256)")
        self._private_key = key
        self.public_key = key.public_key()
        self.public_key_pem = self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        if public_key_pem is not None and _normalised(public_key_pem) != _normalised(self.public_key_pem):
            raise ValueError("FUPIN_JWT_PUBLIC_KEY_FILE does not match FUPIN_JWT_PRIVATE_KEY_FILE")
        self.issuer, self.audience, self.ttl_seconds = issuer, audience, ttl_seconds
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        self.kid = _thumbprint(jwk)
        self.jwks: dict[str, Any] = {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        # Rotation (docs/security.md): the previous signing keys stay published, verify-only, until the tokens they
        # signed have expired; services fetch the JWKS again when they meet a kid they do not know.
        for pem in previous_public_keys_pem:
            previous = serialization.load_pem_public_key(pem.encode())
            if not isinstance(previous, RSAPublicKey):
                raise ValueError("FUPIN_JWT_PREVIOUS_PUBLIC_KEY_FILES must hold RSA public keys")
            old: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(previous))
            if (old_kid := _thumbprint(old)) != self.kid:
                self.jwks["keys"].append({**old, "kid": old_kid, "use": "sig", "alg": "RS256"})

    def issue(self, client: Client, scopes: frozenset[str]) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": self.audience, "sub": client.client_id,
                                  "scope": " ".join(sorted(scopes)), "iat": now, "exp": now + self.ttl_seconds,
                                  "jti": uuid.uuid4().hex}
        if client.bank_code:
            claims["bank_code"] = client.bank_code
        if client.hospitals is not None:
            claims["hospitals"] = list(client.hospitals)
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})


def _normalised(pem: str) -> bytes:
    public = serialization.load_pem_public_key(pem.encode())
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: a stable key id derived from the public key itself."""
    canonical = json.dumps({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
