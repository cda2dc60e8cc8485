from functools import lru_cache

from pydantic import Field

from fupin_kit.settings import ServiceSettings

COMPONENT = "microcredit"


class Settings(ServiceSettings):
    database_url: str = Field("postgresql+asyncpg://postgres@127.0.0.1:15432/microcredit",
                              validation_alias="MICROCREDIT_DATABASE_URL")


@lru_cache
def get_settings() -> Settings:
    return Settings()
