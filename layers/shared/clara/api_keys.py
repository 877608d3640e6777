"""API keys: one per user, created with the account. The token is derived from the key's id, so View shows the
same token until Reset replaces the key, and the old token fails at once (auth checks the stored id)."""

from datetime import datetime
from typing import Any

from clara import dynamo
from clara.audit import audit_put
from clara.auth import API_KEY_SK, Caller
from clara.errors import NotFound
from clara.formats import HttpDate, LazyModel, new_id, utc_now
from clara.tokens import issue_api_key_token
from clara.users import User


class ApiKey(LazyModel):
    id: str
    user_id: str
    created_at: datetime
    updated_at: datetime

    def view(self) -> "ApiKeyView":
        return ApiKeyView(**self.model_dump(), token=issue_api_key_token(self.user_id, self.id))


class ApiKeyView(LazyModel):
    id: str
    user_id: str
    token: str
    created_at: HttpDate
    updated_at: HttpDate


def new_api_key_item(user_id: str, now: datetime) -> dynamo.Item:
    return {
        "pk": dynamo.user_pk(user_id),
        "sk": API_KEY_SK,
        "kind": "api_key",
        "id": new_id("api_key"),
        "user_id": user_id,
        "created_at": now.isoformat(),
        "updated_at": now.isoformat(),
    }


def get_api_key(user: User) -> ApiKey:
    item = dynamo.get(dynamo.user_pk(user.id), API_KEY_SK)
    if item is None:
        raise NotFound("API key")
    return ApiKey.model_validate(item)


def reset_api_key(caller: Caller, user: User) -> ApiKey:
    """A new key (new id, new dates) replacing the old one in one conditional write, with its audit item."""
    old = get_api_key(user)
    item = new_api_key_item(user.id, utc_now())
    replace: dict[str, Any] = {"Put": dynamo.put(item, "id = :old", old=old.id)}
    dynamo.transact(replace, audit_put("api_key_reset", user_id=user.id, source_ip=caller.source_ip))
    return ApiKey.model_validate(item)
