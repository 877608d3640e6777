"""API keys: one per user, created with the account. The token is derived from the key's id, so View shows the
same token until Reset replaces the key, and the old token fails at once (auth checks the stored id)."""

from clara.contract.errors import NotFound
from clara.domain.accounts.tokens import issue_api_key_token
from clara.domain.audit import audit_put
from clara.domain.caller import Caller
from clara.formats import HttpDate, LazyModel, utc_now
from clara.records.accounts import ApiKey, User
from clara.store import credentials, unit


class ApiKeyView(LazyModel):
    id: str
    user_id: str
    token: str
    created_at: HttpDate
    updated_at: HttpDate


def view(key: ApiKey) -> ApiKeyView:
    """The key as the contract shows it, with its token."""
    return ApiKeyView(**key.model_dump(), token=issue_api_key_token(key.user_id, key.id))


def get_api_key(user: User) -> ApiKey:
    found = credentials.get_api_key(user.id)
    if found is None:
        raise NotFound("API key")
    return found


def reset_api_key(caller: Caller, user: User) -> ApiKey:
    """A new key (new id, new dates) replacing the old one in one conditional write, with its audit item.

    A reset that loses a race to another (both read the same old key) answers the key the winner stored: the old
    one is gone either way, and the caller gets the key that works."""
    key, replace = credentials.replace_api_key(get_api_key(user), utc_now())
    try:
        unit.commit(replace, audit_put("api_key_reset", user_id=user.id, source_ip=caller.source_ip))
    except unit.Refused:
        return get_api_key(user)
    return key
