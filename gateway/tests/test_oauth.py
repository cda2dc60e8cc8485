"""POST /oauth/token and the JWKS (contract §0 "Authentication and scopes")."""

import time
from collections.abc import AsyncIterator

import httpx
import jwt
from conftest import basic


def form(client_id: str = "gov-portal", secret: str = "gov-portal-dev-secret", **extra: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **extra}


async def test_form_credentials_give_a_bearer_jwt_with_the_conventions_claims(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/oauth/token", data=form("bank-demo", "bank-demo-dev-secret"))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "microcredit:eligibility microcredit:loans"
    assert "refresh_token" not in body
    assert answer.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert set(claims) == {"iss", "aud", "sub", "scope", "bank_code", "iat", "exp", "jti"}
    assert (claims["iss"], claims["aud"], claims["sub"], claims["bank_code"]) == (
        "fupin-gateway", "fupin", "bank-demo", "B001")
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 5
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"


async def test_non_bank_tokens_carry_no_bank_code(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/oauth/token", data=form("his-demo", "his-demo-dev-secret"))

    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert "bank_code" not in claims
    assert claims["scope"] == "medical:settle"
    assert claims["hospitals"] == ["*"]  # his-demo acts for every hospital


async def test_an_his_token_lists_its_hospitals_and_others_carry_none(gateway: httpx.AsyncClient) -> None:
    other = await gateway.post("/oauth/token", data=form("his-other", "his-other-dev-secret"))
    assert other.status_code == 200, other.text
    claims = jwt.decode(other.json()["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["scope"], claims["hospitals"]) == ("his-other", "medical:settle", ["HOTHER01"])
    gov = await gateway.post("/oauth/token", data=form())
    assert "hospitals" not in jwt.decode(gov.json()["access_token"], options={"verify_signature": False})


async def test_basic_header_credentials_are_accepted(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/oauth/token", data={"grant_type": "client_credentials"},
                                headers=basic("bank-other", "bank-other-dev-secret"))

    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["bank_code"]) == ("bank-other", "B002")


async def test_wrong_secret_is_401_invalid_client(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/oauth/token", data=form(secret="guess"))

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "invalid_client"
    assert "access_token" not in answer.text


async def test_unknown_client_and_bad_basic_secret_are_401_invalid_client(gateway: httpx.AsyncClient) -> None:
    unknown = await gateway.post("/oauth/token", data=form("nobody", "gov-portal-dev-secret"))
    bad_basic = await gateway.post("/oauth/token", data={"grant_type": "client_credentials"},
                                   headers=basic("gov-portal", "wrong"))
    missing = await gateway.post("/oauth/token", data={"grant_type": "client_credentials"})

    assert [a.status_code for a in (unknown, bad_basic, missing)] == [401, 401, 401]
    assert {a.json()["code"] for a in (unknown, bad_basic, missing)} == {"invalid_client"}
    assert bad_basic.headers["www-authenticate"].startswith("Basic")


async def test_a_subset_of_the_clients_scopes_is_granted(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/oauth/token", data=form(scope="registry:read finance:read"))

    assert answer.status_code == 200
    assert answer.json()["scope"] == "finance:read registry:read"
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "finance:read registry:read"


async def test_a_scope_beyond_the_clients_is_400_invalid_scope(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/oauth/token",
                                data=form("auditor", "auditor-dev-secret", scope="registry:read registry:write"))

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_scope"
    assert "registry:write" in answer.json()["detail"]


async def test_other_grants_are_400_unsupported_grant_type(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/oauth/token", data={**form(), "grant_type": "password"})

    assert answer.status_code == 400
    assert answer.json()["code"] == "unsupported_grant_type"


async def test_jwks_verifies_an_issued_token(gateway: httpx.AsyncClient) -> None:
    token = (await gateway.post("/oauth/token", data=form())).json()["access_token"]
    jwks = (await gateway.get("/.well-known/jwks.json")).json()

    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="fupin", issuer="fupin-gateway")
    assert claims["sub"] == "gov-portal"
    assert jwks["keys"][0]["kty"] == "RSA" and "d" not in jwks["keys"][0]


async def test_failed_secrets_are_throttled_per_client_and_address(gateway_with) -> None:  # type: ignore[no-untyped-def]
    async with gateway_with(token_rate_per_second=0.01, token_rate_burst=2) as http:
        answers = [await http.post("/oauth/token", data=form(secret="guess")) for _ in range(3)]
        # while the pair is over its budget even the right secret is not checked: guessing goes no faster
        right = await http.post("/oauth/token", data=form())

    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[2].json()["code"] == "rate_limited"
    assert int(answers[2].headers["retry-after"]) >= 1
    assert right.status_code == 429


async def test_a_correct_secret_is_never_throttled_and_others_cannot_lock_a_client_out(settings_for) -> None:  # type: ignore[no-untyped-def]
    from conftest import running_gateway

    async with running_gateway(settings_for(token_rate_per_second=0.01, token_rate_burst=2)) as http:
        transport = httpx.ASGITransport(app=http.app, client=("203.0.113.9", 4000))  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as attacker:
            failed = [await attacker.post("/oauth/token", data=form("bank-demo", "guess")) for _ in range(4)]
        bank = [await http.post("/oauth/token", data=form("bank-demo", "bank-demo-dev-secret")) for _ in range(10)]

    assert [a.status_code for a in failed] == [401, 401, 429, 429]
    assert {a.status_code for a in bank} == {200}  # another address, and successes spend nothing


async def test_the_token_endpoint_limits_its_body(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/oauth/token", data=form(scope="registry:read " * 2000))
    assert answer.status_code == 413 and answer.json()["code"] == "payload_too_large"

    async def unsized() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        yield b"grant_type=client_credentials&scope="
        for _ in range(10):
            yield b"x" * 1000

    chunked = await gateway.post("/oauth/token", content=unsized(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert chunked.status_code == 413


async def test_previous_keys_stay_in_the_jwks_for_rotation(settings_for, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import running_gateway

    from fupin_kit.testing import generate_keypair, mint_token

    old_private, old_public = generate_keypair()
    (tmp_path / "old.pem").write_text(old_public)
    async with running_gateway(settings_for(jwt_previous_public_key_files=[tmp_path / "old.pem"])) as http:
        jwks = (await http.get("/.well-known/jwks.json")).json()
        new = (await http.post("/oauth/token", data=form())).json()["access_token"]

    assert len(jwks["keys"]) == 2
    keys = jwt.PyJWKSet.from_dict(jwks)
    assert jwt.get_unverified_header(new)["kid"] == jwks["keys"][0]["kid"]
    old_kid = jwks["keys"][1]["kid"]
    old = mint_token(old_private, "gov-portal", "registry:read", kid=old_kid)
    assert jwt.decode(old, keys[old_kid].key, algorithms=["RS256"], audience="fupin")["sub"] == "gov-portal"
