"""Kafka client authentication from the environment: nothing in dev, TLS + SCRAM in a cluster."""

import ssl

import pytest
from pydantic import ValidationError

from fupin_kit.kafka_security import KafkaSecurity


def test_plaintext_by_default_adds_nothing_but_the_protocol():
    assert KafkaSecurity().client_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_passes_scram_credentials_and_a_tls_context(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "registry")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    options = KafkaSecurity().client_options()
    assert options["sasl_mechanism"] == "SCRAM-SHA-512" and options["sasl_plain_username"] == "registry"
    assert options["sasl_plain_password"] == "s3cret" and isinstance(options["ssl_context"], ssl.SSLContext)
    assert "s3cret" not in repr(KafkaSecurity())


def test_sasl_without_credentials_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ValidationError):
        KafkaSecurity()
