"""Integration fixtures: a fresh `medical_test` database migrated with Alembic on the real PostgreSQL server,
the real Kafka broker, and the app driven in-process through httpx with its lifespan running."""

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from fupin_kit.testing import generate_keypair, migrate, mint_token, recreate_database

SERVICE = "medical"
HERE = Path(__file__).resolve().parent
PG_PORT = os.environ.get("FUPIN_PG_PORT", "55432")
SERVER_DSN = os.environ.get("FUPIN_TEST_PG_DSN", f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres")
TEST_DB = f"{SERVICE}_test"
PRIVATE_KEY, PUBLIC_KEY = generate_keypair()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    import asyncio

    asyncio.run(recreate_database(SERVER_DSN, TEST_DB))
    url = SERVER_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{TEST_DB}"
    migrate(HERE.parent / "alembic.ini", f"{SERVICE.upper()}_DATABASE_URL", url)
    key_file = tmp_path_factory.mktemp("keys") / "jwt_public.pem"
    key_file.write_text(PUBLIC_KEY)
    os.environ[f"{SERVICE.upper()}_DATABASE_URL"] = url
    os.environ["FUPIN_JWT_PUBLIC_KEY_FILE"] = str(key_file)
    os.environ["FUPIN_CONSUMER_GROUP"] = f"{SERVICE}-test-{uuid.uuid4().hex[:8]}"
    return url


# One app for the whole session: its Kafka consumer joins its group once, and every test uses fresh ids.
@pytest.fixture(scope="session")
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    from medical.config import get_settings
    from medical.main import create_app

    get_settings.cache_clear()
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://medical.test") as http:
            yield http


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A plain asyncpg pool on the test database, to assert DB effects."""
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    yield pool
    await pool.close()


def token(scopes: str, client_id: str = "gov-portal", bank_code: str | None = None) -> dict[str, str]:
    """Authorization header for a token the gateway would have issued."""
    return {"Authorization": f"Bearer {mint_token(PRIVATE_KEY, client_id, scopes, bank_code=bank_code)}"}
