"""The wire formats of the contract: `<prefix>_<uuid4 hex>` ids and RFC 1123 dates."""

import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer


def new_id(prefix: str) -> str:
    """An id such as `user_ac19b010fec5428a8ae131596731b7c8`."""
    return f"{prefix}_{uuid.uuid4().hex}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def http_date(moment: datetime) -> str:
    """RFC 1123 date in GMT, as the contract shows: `Wed, 26 Nov 2025 23:51:28 GMT`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


# A datetime field that serialises the way every Clara response shows dates.
HttpDate = Annotated[datetime, PlainSerializer(http_date, return_type=str, when_used="json")]


class LazyModel(BaseModel):
    """A model whose validator is built on first use, not at import: a cold start pays only for the models its
    request touches (pydantic's defer_build)."""

    model_config = ConfigDict(defer_build=True)
