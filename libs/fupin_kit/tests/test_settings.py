"""Fail closed: without FUPIN_PROFILE a component runs as prod, where the dev pseudonym key is refused."""

import pytest
from pydantic import ValidationError

from fupin_kit.settings import PlatformSettings


def test_no_profile_means_prod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUPIN_PROFILE", raising=False)
    monkeypatch.delenv("FUPIN_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValidationError, match="FUPIN_PSEUDONYM_KEY"):
        PlatformSettings()
    monkeypatch.setenv("FUPIN_PSEUDONYM_KEY", "a-real-key")
    assert PlatformSettings().profile == "prod"
    monkeypatch.setenv("FUPIN_PROFILE", "dev")
    monkeypatch.delenv("FUPIN_PSEUDONYM_KEY")
    assert PlatformSettings().profile == "dev"


def test_the_jwks_url_comes_from_the_gateway_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUPIN_PROFILE", "test")
    monkeypatch.delenv("FUPIN_JWKS_URL", raising=False)
    monkeypatch.setenv("FUPIN_GATEWAY_URL", "http://gateway:8000/")
    assert PlatformSettings().jwks_endpoint() == "http://gateway:8000/.well-known/jwks.json"
    monkeypatch.setenv("FUPIN_JWKS_URL", "https://keys.example/jwks.json")
    assert PlatformSettings().jwks_endpoint() == "https://keys.example/jwks.json"
