from functools import lru_cache

from pydantic import Field

from fupin_kit.settings import ServiceSettings

COMPONENT = "assistance"


class Settings(ServiceSettings):
    database_url: str = Field("postgresql+asyncpg://postgres@127.0.0.1:15432/assistance",
                              validation_alias="ASSISTANCE_DATABASE_URL")


@lru_cache
def get_settings() -> Settings:
    return Settings()
