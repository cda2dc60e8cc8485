"""Token verification: the claims a service trusts (contract §0), the HIS hospitals claim failing closed."""

import datetime as dt
import json
import time

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import RSAAlgorithm

from fupin_kit.auth import TokenVerifier, hospitals_claim
from fupin_kit.errors import AppError
from fupin_kit.testing import generate_keypair, mint_token

PRIVATE, PUBLIC = generate_keypair()


def verifier() -> TokenVerifier:
    return TokenVerifier(PUBLIC, issuer="fupin-gateway", audience="fupin")


def test_the_hospitals_claim_lists_codes_star_means_all_absent_means_none() -> None:
    assert hospitals_claim(["*"]) is None
    assert hospitals_claim(["HOTHER01", "H2"]) == frozenset({"HOTHER01", "H2"})
    for bad in (None, "HOTHER01", [1], {"a": 1}):
        assert hospitals_claim(bad) == frozenset()


def test_an_his_token_acts_only_for_its_hospitals() -> None:
    other = verifier().verify(mint_token(PRIVATE, "his-other", "medical:settle", hospitals=("HOTHER01",)))
    assert other.acts_for_hospital("HOTHER01") and not other.acts_for_hospital("H1")
    every = verifier().verify(mint_token(PRIVATE, "his-demo", "medical:settle", hospitals=("*",)))
    assert every.acts_for_hospital("H1") and every.acts_for_hospital("HOTHER01")
    bare = verifier().verify(mint_token(PRIVATE, "his-x", "medical:settle"))
    assert not bare.acts_for_hospital("H1")


def test_a_token_signed_by_another_key_is_refused() -> None:
    stranger, _ = generate_keypair()
    with pytest.raises(AppError) as refused:
        verifier().verify(mint_token(stranger, "gov-portal", "registry:read"))
    assert refused.value.status == 401


# --- JWKS by kid, the verification cache ---------------------------------------------------------------------

class JwksServer:
    """A tiny HTTP server publishing a JWKS, counting its hits (stands in for the gateway)."""

    def __init__(self, *public_pems: str) -> None:
        import http.server
        import threading

        owner = self
        self.hits = 0
        self.set_keys(*public_pems)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set_keys(self, *public_pems: str) -> None:
        self.jwks = {"keys": [{**json.loads(RSAAlgorithm.to_jwk(load_pem_public_key(p.encode()))), "kid": kid_of(p),
                               "use": "sig", "alg": "RS256"} for p in public_pems]}


def kid_of(public_pem: str) -> str:
    from fupin_kit.auth import _thumbprint

    return _thumbprint(load_pem_public_key(public_pem.encode()))


def test_keys_come_from_the_jwks_by_kid_and_a_new_kid_fetches_it_again() -> None:
    new_private, new_public = generate_keypair()
    server = JwksServer(PUBLIC)
    try:
        now = [1000.0]
        v = TokenVerifier(None, issuer="fupin-gateway", audience="fupin", jwks_url=server.url, jwks_min_interval=10,
                          clock=lambda: now[0])
        first = mint_token(PRIVATE, "gov-portal", "registry:read", kid=kid_of(PUBLIC))
        assert v.verify(first).client_id == "gov-portal" and server.hits == 1
        # the gateway rotates: a token with the new kid makes the service fetch the JWKS again
        server.set_keys(new_public, PUBLIC)
        now[0] += 11
        rotated = mint_token(new_private, "bank-demo", "microcredit:loans", kid=kid_of(new_public))
        assert v.verify(rotated).client_id == "bank-demo" and server.hits == 2
        # unknown kids cannot make it hammer the gateway: one fetch per interval
        stranger_private, stranger_public = generate_keypair()
        for _ in range(5):
            with pytest.raises(AppError):
                v.verify(mint_token(stranger_private, "x", "registry:read", kid=kid_of(stranger_public)))
        assert server.hits == 2
        # a token without a kid needs a configured key
        with pytest.raises(AppError):
            v.verify(mint_token(PRIVATE, "gov-portal", "registry:read"))
        # a retired key (no longer published) stops verifying once the JWKS is fetched again
        server.set_keys(new_public)
        now[0] += 11
        with pytest.raises(AppError):
            v.verify(mint_token(stranger_private, "x", "registry:read", kid=kid_of(stranger_public)))
        with pytest.raises(AppError):
            v.verify(mint_token(PRIVATE, "gov-portal", "registry:read", kid=kid_of(PUBLIC)))
    finally:
        server.server.shutdown()


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    import jwt as pyjwt

    calls = []
    real_decode = pyjwt.decode
    monkeypatch.setattr(pyjwt, "decode", lambda *a, **k: calls.append(1) or real_decode(*a, **k))
    now = [time.time()]
    v = TokenVerifier(PUBLIC, issuer="fupin-gateway", audience="fupin", clock=lambda: now[0])
    token = mint_token(PRIVATE, "gov-portal", "registry:read", ttl=dt.timedelta(minutes=5))
    for _ in range(5):
        assert v.verify(token).client_id == "gov-portal"
    assert len(calls) == 1  # one RSA verification for five calls
    now[0] += 301  # past the token's exp: not served from the cache any more
    v.verify(token)
    assert len(calls) == 2
    with pytest.raises(AppError):  # a forged token is never served from the cache of a good one
        v.verify(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))


def test_the_cache_is_bounded() -> None:
    v = TokenVerifier(PUBLIC, issuer="fupin-gateway", audience="fupin", cache_size=3)
    tokens = [mint_token(PRIVATE, f"c{i}", "registry:read") for i in range(5)]
    for t in tokens:
        v.verify(t)
    assert len(v._cache) == 3
