"""OAuth clients: who may ask for a token, with which secret (stored as a salted scrypt hash), scopes and bank.

Create a `secret_hash` for the clients file with `python -m gateway.clients hash <secret>`.
"""

import base64
import hashlib
import hmac
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fupin_kit.memory import release_memory

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst: int


@dataclass(frozen=True)
class Client:
    client_id: str
    secret_hash: str
    scopes: frozenset[str]
    bank_code: str | None = None
    rate_limit: RateLimit | None = None
    # An HIS client's hospitals (the token's `hospitals` claim); ("*",) = every hospital; None = not an HIS.
    hospitals: tuple[str, ...] | None = None


def _scrypt(password: bytes, *, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    """hashlib.scrypt, then its 16 MiB buffer given back to the system: once freed it stays with the calling worker
    thread's allocator (glibc keeps a block that size for the next one), and the gateway's memory grew by 16 MiB
    for every thread that ever checked a secret."""
    try:
        return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen)
    finally:
        release_memory()


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$key`, base64 parts: the only form in which a client secret is stored."""
    salt = salt or secrets.token_bytes(16)
    key = _scrypt(secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     base64.b64encode(salt).decode(), base64.b64encode(key).decode()])


def verify_secret(secret: str, secret_hash: str) -> bool:
    """Constant-time comparison of `secret` against a stored hash; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = secret_hash.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key_b64)
        actual = _scrypt(secret.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p),
                         dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Contract §0 demo clients. Secrets are public (dev only); only their hashes live here.
_GOV_SCOPES = ("registry:read registry:write finance:read finance:write education:read education:write "
               "microcredit:read microcredit:write medical:read medical:write assistance:read assistance:write "
               "dashboard:read welfare:read welfare:write")
_BANK_SCOPES = "microcredit:eligibility microcredit:loans"
_AUDITOR_SCOPES = ("registry:read finance:read education:read microcredit:read medical:read assistance:read "
                   "dashboard:read welfare:read audit:read")
DEMO_SECRETS: dict[str, str] = {
    "gov-portal": "gov-portal-dev-secret",
    "bank-demo": "bank-demo-dev-secret",
    "bank-other": "bank-other-dev-secret",
    "his-demo": "his-demo-dev-secret",
    "his-other": "his-other-dev-secret",
    "auditor": "auditor-dev-secret",
}
DEMO_CLIENTS: tuple[Client, ...] = (
    Client("gov-portal",
           "scrypt$16384$8$1$JIfIg5tP617A9DjZb+x75Q==$Dmo/77ju+P2h3AJm8hWqeBKabfI2dmaUdEzf+NO40c8=",
           frozenset(_GOV_SCOPES.split())),
    Client("bank-demo",
           "scrypt$16384$8$1$hNUBmS73DNsP2tgaV5KdIA==$CHeZl1t27T+EssMsajK41bZnwRXCa5dF2vwdMltvPRs=",
           frozenset(_BANK_SCOPES.split()), bank_code="B001"),
    Client("bank-other",
           "scrypt$16384$8$1$mcbz7TVNeGsjlh4kwR17Mg==$XEfzBvN2eLstXQTodNlNgA0tlhsVHy7urf8+7F3vS/k=",
           frozenset(_BANK_SCOPES.split()), bank_code="B002"),
    Client("his-demo",
           "scrypt$16384$8$1$sgiJlDaoA6lOTj4gMQgy+g==$6ssAhg8ZY13KWtaasBvkJZx3+vsuYeoiZd6FjkqsXbw=",
           frozenset("medical:settle".split()), hospitals=("*",)),
    Client("his-other",
           "scrypt$16384$8$1$wj5XjwyB0jttHUo4TbhUcQ==$evMmFPsRHQhVpRyz7iuYNSyZ53tUL/Ys9XA1fgC9V1g=",
           frozenset("medical:settle".split()), hospitals=("HOTHER01",)),
    Client("auditor",
           "scrypt$16384$8$1$oEysBR1iWHAyHdn2uPM3Pg==$Ta/MN9ZLm0x2hzcVAVEragvRwrLjetlkZITOUP7XVdg=",
           frozenset(_AUDITOR_SCOPES.split())),
)


def uses_demo_secret(client: Client) -> bool:
    """True when the client's stored hash accepts any of the public dev secrets."""
    return any(verify_secret(secret, client.secret_hash) for secret in DEMO_SECRETS.values())


def parse_rate_limit(raw: Any) -> RateLimit | None:
    """`{"per_second": 5, "burst": 10}`, or a number of requests per second (burst twice that)."""
    if raw is None:
        return None
    if isinstance(raw, (int, float)):
        return RateLimit(float(raw), max(1, int(raw * 2)))
    return RateLimit(float(raw["per_second"]), int(raw["burst"]))


def load_clients_file(path: Path) -> list[Client]:
    """The JSON list `[{client_id, secret_hash, scopes, bank_code?, rate_limit?, hospitals?}]`; `scopes` a list or a
    string; `hospitals` the hospital codes an HIS acts for (`["*"]` = every one)."""
    entries = json.loads(path.read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of clients")
    clients = []
    for entry in entries:
        scopes = entry["scopes"]
        scopes = scopes.split() if isinstance(scopes, str) else list(scopes)
        if not str(entry["secret_hash"]).startswith("scrypt$"):
            raise ValueError(f"{path}: client {entry['client_id']}: secret_hash must be a scrypt hash, not a secret")
        hospitals = entry.get("hospitals")
        if hospitals is not None and not (isinstance(hospitals, list) and all(isinstance(h, str) for h in hospitals)):
            raise ValueError(f"{path}: client {entry['client_id']}: hospitals must be a list of hospital codes")
        clients.append(Client(str(entry["client_id"]), str(entry["secret_hash"]), frozenset(scopes),
                              entry.get("bank_code"), parse_rate_limit(entry.get("rate_limit")),
                              tuple(hospitals) if hospitals is not None else None))
    return clients


class ClientRegistry:
    def __init__(self, clients: list[Client]) -> None:
        self._clients = {c.client_id: c for c in clients}
        # Unknown clients are checked against this so that timing does not reveal which client ids exist.
        self._decoy = hash_secret(secrets.token_urlsafe(16))

    def __contains__(self, client_id: str) -> bool:
        return client_id in self._clients

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def authenticate(self, client_id: str, secret: str) -> Client | None:
        """The client when `secret` is its secret, else None (same work either way)."""
        client = self._clients.get(client_id)
        matches = verify_secret(secret, client.secret_hash if client else self._decoy)
        return client if client is not None and matches else None



def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "hash":
        print(hash_secret(argv[1]))
        return 0
    print("usage: python -m gateway.clients hash <secret>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
