"""Gateway settings (env prefix `FUPIN_`): signing key, clients, upstream services, limits, its audit database."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from fupin_kit.settings import PlatformSettings
from gateway.clients import DEMO_CLIENTS, Client, RateLimit, load_clients_file, parse_rate_limit, uses_demo_secret

COMPONENT = "gateway"
SERVICES = ("registry", "finance", "microcredit", "education", "medical", "assistance", "welfare", "dashboard")


class Settings(PlatformSettings):
    database_url: str = Field("postgresql+asyncpg://postgres@127.0.0.1:15432/gateway",
                              validation_alias="GATEWAY_DATABASE_URL")
    db_pool_size: int = 5
    jwt_private_key_file: Path | None = None
    token_ttl_seconds: int = Field(3600, ge=60, le=86400)
    clients_file: Path | None = None

    registry_url: str = "http://127.0.0.1:8101"
    finance_url: str = "http://127.0.0.1:8102"
    microcredit_url: str = "http://127.0.0.1:8103"
    education_url: str = "http://127.0.0.1:8104"
    medical_url: str = "http://127.0.0.1:8105"
    assistance_url: str = "http://127.0.0.1:8106"
    welfare_url: str = "http://127.0.0.1:8107"
    dashboard_url: str = "http://127.0.0.1:8108"
    upstream_connect_timeout: float = 2.0
    upstream_timeout: float = 30.0
    upstream_max_connections: int = 200
    # Calls in flight to one service at once; more wait here, in order, for a free connection (the wait counts
    # against `upstream_connect_timeout`: 503, nothing reached the service). A bulkhead: a slow service holds at most
    # half of `upstream_max_connections`, never all of them. Not lower: a service queues the calls above its database
    # budget (20 at the default FUPIN_DB_POOL_SIZE) in its own pool, in order (fupin_kit.fair_pool), and a limit at
    # that budget cost a fifth of the throughput through the gateway (the slot also waits for this loop to take the
    # answer) and raised p99 (make bench --quick, c64: eligibility 0.157x hello, p99 39 ms unlimited; 0.137x, p99
    # 56 ms at 20). Per address: with replicas behind one address, it is their sum.
    upstream_connections_per_service: int = Field(100, ge=1)
    max_body_bytes: int = 1_048_576
    # Bulk intake (拉网式摸底) uploads a county's file in one request, streamed to the registry (never held here): the
    # importer's limit (64 MiB file, registry.imports.parsing.MAX_BYTES) plus the multipart envelope, as the registry.
    max_upload_bytes: int = 64 * 1_048_576 + 65_536
    upload_paths: tuple[str, ...] = ("/registry/imports",)

    def body_limit(self, path: str) -> int:
        return self.max_upload_bytes if path in self.upload_paths else self.max_body_bytes

    # Routes allowed longer than `upstream_timeout` to answer (path → seconds, exact path): the whole-ledger check reads
    # every journal line (~33 s on a large ledger), and a county's monthly welfare run for 100,000 cases commits in
    # about 67 s on 2 cores; a 502 at 30 s told the caller nothing (the run went on). Other routes keep 30 s.
    upstream_route_timeouts: dict[str, float] = Field(default_factory=lambda: {
        "/finance/ledger/verify": 120.0, "/welfare/runs": 300.0})

    def route_timeout(self, path: str) -> float | None:
        """The read timeout of a route that has its own, else None (the client's default)."""
        return self.upstream_route_timeouts.get(path)

    # Token bucket per client: default, per-client overrides ({"client_id": {"per_second": 5, "burst": 10}}).
    rate_limit_per_second: float = Field(50.0, gt=0)
    rate_limit_burst: int = Field(100, ge=1)
    rate_limits: dict[str, RateLimit] = Field(default_factory=dict)
    # /oauth/token: failed secrets only, per (claimed client_id, caller IP) and per caller IP (slows secret guessing;
    # a correct secret is never throttled by others' failures). The body is small form fields.
    token_rate_per_second: float = Field(0.2, gt=0)
    token_rate_burst: int = Field(10, ge=1)
    token_ip_failure_per_second: float = Field(2.0, gt=0)
    token_ip_failure_burst: int = Field(60, ge=1)
    token_max_body_bytes: int = Field(4096, ge=256)
    # Verify-only public keys published in the JWKS beside the signing key (key rotation, docs/security.md).
    jwt_previous_public_key_files: list[Path] = Field(default_factory=list)

    audit_batch_size: int = 200
    audit_flush_seconds: float = 0.5
    audit_max_backlog: int = 10_000
    openapi_cache_seconds: float = 30.0

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _parse_rate_limits(cls, raw: Any) -> Any:
        value = json.loads(raw) if isinstance(raw, str) else raw
        return {k: v if isinstance(v, RateLimit) else parse_rate_limit(v) for k, v in (value or {}).items()}

    @model_validator(mode="after")
    def _refuse_demo_clients_outside_dev(self) -> "Settings":
        if self.profile == "dev":
            return self
        if self.clients_file is None:
            if self.profile == "prod":
                raise ValueError("FUPIN_CLIENTS_FILE must be set in the prod profile (the demo clients are dev only)")
            return self
        if offenders := [c.client_id for c in load_clients_file(self.clients_file) if uses_demo_secret(c)]:
            raise ValueError(f"clients {', '.join(offenders)} use a dev demo secret, refused outside the dev profile")
        return self

    def upstream_url(self, service: str) -> str:
        return str(getattr(self, f"{service}_url")).rstrip("/")

    def clients(self) -> list[Client]:
        """The demo clients in dev, then the clients file (whose entries win over a demo client of the same id)."""
        demo = list(DEMO_CLIENTS) if self.profile == "dev" else []
        from_file = load_clients_file(self.clients_file) if self.clients_file else []
        overridden = {c.client_id for c in from_file}
        return [c for c in demo if c.client_id not in overridden] + from_file

    def private_key_pem(self) -> str:
        if self.jwt_private_key_file is None:
            raise RuntimeError("FUPIN_JWT_PRIVATE_KEY_FILE is not set: the gateway cannot sign tokens")
        return self.jwt_private_key_file.read_text()


@lru_cache
def get_settings() -> Settings:
    return Settings()
