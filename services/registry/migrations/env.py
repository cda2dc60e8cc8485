import registry.models  # noqa: F401  (every table of the service on the metadata)
from fupin_kit.migrations import run_env

run_env(url_env="REGISTRY_DATABASE_URL", default_url="postgresql+asyncpg://postgres@127.0.0.1:15432/registry")
