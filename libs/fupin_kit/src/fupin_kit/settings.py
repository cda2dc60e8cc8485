"""Settings every component reads from the environment."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PSEUDONYM_KEY = "fupin-dev-pseudonym-key"


class PlatformSettings(BaseSettings):
    """What every component shares: profile, Kafka, token verification, the pseudonym key."""

    model_config = SettingsConfigDict(env_prefix="FUPIN_", extra="ignore", populate_by_name=True)

    # Fail closed: a component started without FUPIN_PROFILE runs as prod (no demo clients, no dev keys). The dev
    # runner sets dev; the test helpers set test.
    profile: Literal["dev", "prod", "test"] = "prod"
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    jwt_public_key_file: Path | None = None
    # Services verify tokens by `kid` against the gateway's JWKS: FUPIN_JWKS_URL, else FUPIN_GATEWAY_URL's.
    gateway_url: str | None = None
    jwks_url: str | None = None
    jwt_issuer: str = "fupin-gateway"
    jwt_audience: str = "fupin"
    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    log_level: str = "INFO"
    consumer_group: str | None = None  # defaults to the component's name; tests use their own group
    # FUPIN_TOPIC_PREFIX: a namespace for the Kafka topics (`<prefix><topic>`, see fupin_kit.events.topics); the
    # in-process test suites set one per run. Empty in production and the dev stack. Events keep the plain names.
    topic_prefix: str = ""

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_prod(self) -> "PlatformSettings":
        if self.profile == "prod" and self.pseudonym_key.get_secret_value() == DEV_PSEUDONYM_KEY:
            raise ValueError("FUPIN_PSEUDONYM_KEY must be set outside the dev profile")
        return self

    def jwt_public_key(self) -> str:
        if self.jwt_public_key_file is None:
            raise RuntimeError("FUPIN_JWT_PUBLIC_KEY_FILE is not set")
        return self.jwt_public_key_file.read_text()

    def jwks_endpoint(self) -> str | None:
        if self.jwks_url:
            return self.jwks_url
        return f"{self.gateway_url.rstrip('/')}/.well-known/jwks.json" if self.gateway_url else None

    def token_verifier_keys(self) -> tuple[str | None, str | None]:
        """(the configured public key PEM or None, the JWKS URL or None); at least one must be set."""
        pem = self.jwt_public_key_file.read_text() if self.jwt_public_key_file else None
        jwks = self.jwks_endpoint()
        if pem is None and jwks is None:
            raise RuntimeError("set FUPIN_GATEWAY_URL (or FUPIN_JWKS_URL) or FUPIN_JWT_PUBLIC_KEY_FILE: "
                               "tokens cannot be verified")
        return pem, jwks


class ServiceSettings(PlatformSettings):
    """A service adds its database URL (declared with its own env alias in the service's config)."""

    database_url: str
    db_pool_size: int = 10
