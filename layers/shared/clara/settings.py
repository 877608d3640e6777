"""One settings model for every function, read from the environment on first use (never at import)."""

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict

SERVICE_NAME = "clara-backend"
API_PREFIX = "/api/v1"


class Settings(BaseModel):
    """Each field comes from the environment variable of the same name in upper case (TABLE_NAME, ...)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    # Empty means "report the project's own version" (clara.__version__).
    version: str = ""
    table_name: str = "ClaraTable"
    analysis_queue_url: str = ""
    attachments_bucket: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Self:
        # Plain pydantic rather than pydantic-settings: the same validation, without its ~47 ms of cold start.
        return cls.model_validate({name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call get_settings.cache_clear() after changing the environment."""
    return Settings.from_environment()
