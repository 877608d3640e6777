"""Credentials stored with the user: its API key (one per user; the API key token names the key's id)."""

from datetime import datetime

from clara.formats import new_id
from clara.models import ApiKey
from clara.store import unit
from clara.store.items import ApiKeyItem


def _api_key(item: ApiKeyItem) -> ApiKey:
    return ApiKey(id=item.id, user_id=item.user_id, created_at=item.created_at, updated_at=item.updated_at)


def _api_key_item(key: ApiKey) -> ApiKeyItem:
    return ApiKeyItem(
        *ApiKeyItem.key(key.user_id),
        id=key.id,
        user_id=key.user_id,
        created_at=key.created_at,
        updated_at=key.updated_at,
    )


def new_api_key(user_id: str, now: datetime) -> tuple[ApiKey, unit.Write]:
    """A fresh key (a new id, so any earlier token stops working) and the write that stores it."""
    key = ApiKey(id=new_id("api_key"), user_id=user_id, created_at=now, updated_at=now)
    return key, unit.put("api_key", _api_key_item(key))


def get_api_key(user_id: str) -> ApiKey | None:
    try:
        return _api_key(ApiKeyItem.get(*ApiKeyItem.key(user_id), consistent_read=True))
    except ApiKeyItem.DoesNotExist:
        return None


def replace_api_key(old: ApiKey, now: datetime) -> tuple[ApiKey, unit.Write]:
    """A new key replacing `old`, refused ("api_key") if another replaced it meanwhile."""
    key = ApiKey(id=new_id("api_key"), user_id=old.user_id, created_at=now, updated_at=now)
    return key, unit.put("api_key", _api_key_item(key), ApiKeyItem.id == old.id)
