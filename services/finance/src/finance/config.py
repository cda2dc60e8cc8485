from functools import lru_cache

from pydantic import Field

from fupin_kit.settings import ServiceSettings

COMPONENT = "finance"


class Settings(ServiceSettings):
    database_url: str = Field("postgresql+asyncpg://postgres@127.0.0.1:15432/finance",
                              validation_alias="FINANCE_DATABASE_URL")


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # values come from the environment
