"""Profiles and clients: the demo clients exist in dev only, prod needs a clients file without the dev secrets."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from gateway.clients import DEMO_CLIENTS, DEMO_SECRETS, hash_secret, verify_secret
from gateway.config import Settings

PROD_KEY = {"pseudonym_key": "prod-pseudonym-key-for-tests"}


def prod(clients: Path | None = None) -> Settings:
    return Settings(profile="prod", clients_file=clients, pseudonym_key=SecretStr("prod-pseudonym-key-for-tests"))


def clients_file(folder: Path, *entries: dict[str, Any]) -> Path:
    path = folder / "clients.json"
    path.write_text(json.dumps(list(entries)))
    return path


def test_every_demo_client_hash_matches_its_contract_secret() -> None:
    assert {c.client_id for c in DEMO_CLIENTS} == set(DEMO_SECRETS)
    for client in DEMO_CLIENTS:
        assert verify_secret(DEMO_SECRETS[client.client_id], client.secret_hash)
        assert not verify_secret(DEMO_SECRETS[client.client_id] + "x", client.secret_hash)


def test_prod_without_a_clients_file_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="FUPIN_CLIENTS_FILE"):
        prod()


def test_prod_refuses_a_clients_file_holding_a_dev_secret(tmp_path: Path) -> None:
    path = clients_file(tmp_path, {"client_id": "gov-portal", "secret_hash": hash_secret("gov-portal-dev-secret"),
                                   "scopes": "registry:read"})

    with pytest.raises(ValidationError, match="dev demo secret"):
        prod(path)


def test_a_plain_secret_in_the_clients_file_is_refused(tmp_path: Path) -> None:
    path = clients_file(tmp_path, {"client_id": "city", "secret_hash": "hunter2", "scopes": "registry:read"})

    with pytest.raises(ValidationError, match="scrypt"):
        prod(path)


def test_prod_uses_only_the_clients_file(tmp_path: Path) -> None:
    path = clients_file(tmp_path, {"client_id": "city-portal", "secret_hash": hash_secret("s3cret-from-vault"),
                                   "scopes": ["registry:read"], "bank_code": None,
                                   "rate_limit": {"per_second": 5, "burst": 10}})

    clients = prod(path).clients()

    assert [c.client_id for c in clients] == ["city-portal"]
    assert clients[0].rate_limit is not None and clients[0].rate_limit.burst == 10


def test_dev_has_the_five_demo_clients() -> None:
    assert {c.client_id for c in Settings(profile="dev").clients()} == set(DEMO_SECRETS)


async def test_a_prod_gateway_refuses_the_dev_secrets(settings_for: Callable[..., Any], tmp_path: Path) -> None:
    from conftest import running_gateway

    path = clients_file(tmp_path, {"client_id": "city-portal", "secret_hash": hash_secret("s3cret-from-vault"),
                                   "scopes": "registry:read"})
    async with running_gateway(settings_for(profile="prod", clients_file=path, **PROD_KEY)) as http:
        demo = await http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "gov-portal",
                                                     "client_secret": "gov-portal-dev-secret"})
        real = await http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "city-portal",
                                                     "client_secret": "s3cret-from-vault"})

    assert demo.status_code == 401 and demo.json()["code"] == "invalid_client"
    assert real.status_code == 200 and real.json()["scope"] == "registry:read"


def test_per_client_rate_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUPIN_RATE_LIMITS", '{"bank-demo": {"per_second": 1, "burst": 2}, "his-demo": 7}')
    monkeypatch.setenv("FUPIN_RATE_LIMIT_PER_SECOND", "20")

    settings = Settings(profile="dev")

    assert settings.rate_limit_per_second == 20
    assert (settings.rate_limits["bank-demo"].per_second, settings.rate_limits["bank-demo"].burst) == (1, 2)
    assert (settings.rate_limits["his-demo"].per_second, settings.rate_limits["his-demo"].burst) == (7, 14)


def test_without_a_profile_the_gateway_runs_as_prod(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: an image started without FUPIN_PROFILE must not load the demo clients."""
    monkeypatch.delenv("FUPIN_PROFILE", raising=False)
    with pytest.raises(ValidationError, match="FUPIN_CLIENTS_FILE"):
        Settings()
    monkeypatch.setenv("FUPIN_PSEUDONYM_KEY", "a-real-key")
    with pytest.raises(ValidationError, match="FUPIN_CLIENTS_FILE"):
        Settings()


def test_outside_dev_a_clients_file_with_a_dev_secret_is_refused(tmp_path: Path) -> None:
    path = clients_file(tmp_path, {"client_id": "his-demo", "secret_hash": hash_secret("his-demo-dev-secret"),
                                   "scopes": "medical:settle", "hospitals": ["*"]})
    with pytest.raises(ValidationError, match="dev demo secret"):
        Settings(profile="test", clients_file=path)
    assert Settings(profile="test").clients() == []  # no demo clients outside dev


def test_a_clients_file_names_an_his_clients_hospitals(tmp_path: Path) -> None:
    path = clients_file(tmp_path, {"client_id": "his-city", "secret_hash": hash_secret("s3cret"),
                                   "scopes": "medical:settle", "hospitals": ["H1", "H2"]})
    [client] = prod(path).clients()
    assert client.hospitals == ("H1", "H2")
    bad = clients_file(tmp_path, {"client_id": "his-city", "secret_hash": hash_secret("s3cret"),
                                  "scopes": "medical:settle", "hospitals": "H1"})
    with pytest.raises(ValidationError, match="hospitals"):
        prod(bad)
