"""One settings model for every function, read from the environment on first use (never at import)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAME = "clara-backend"
API_PREFIX = "/api/v1"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    environment: str = Field(default="development", pattern="^(development|test|production)$")
    # Empty means "report the project's own version" (clara.__version__).
    version: str = ""
    table_name: str = "ClaraTable"
    analysis_queue_url: str = ""
    attachments_bucket: str = ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call get_settings.cache_clear() after changing the environment."""
    return Settings()
