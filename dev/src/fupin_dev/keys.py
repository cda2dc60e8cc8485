"""Development keys in .run/keys: the gateway's RS256 signing pair and the person-pseudonym HMAC key."""

import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def ensure_keys(folder: Path) -> None:
    """Create whatever key file is missing; existing keys are never replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / "jwt_private.pem", folder / "jwt_public.pem"
    if not (private.is_file() and public.is_file()):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write(
            private,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            mode=0o600,
        )
        _write(
            public,
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            mode=0o644,
        )
    pseudonym = folder / "pseudonym.key"
    if not pseudonym.is_file():
        _write(pseudonym, secrets.token_hex(32).encode(), mode=0o600)


def _write(path: Path, content: bytes, mode: int) -> None:
    path.write_bytes(content)
    path.chmod(mode)
