"""The profile and the admin's erasure of a user."""

from clara.contract.errors import NotFound
from clara.contract.requests import (
    UpdateUserRequest,
)
from clara.domain.accounts.sessions import capitalise, stored_user, update_user_write
from clara.domain.analysis.ports import attachments
from clara.domain.audit import audit_put, record
from clara.domain.caller import Caller
from clara.formats import utc_now
from clara.records.accounts import User
from clara.store import unit
from clara.store import users as stored


def update_user(caller: Caller, user: User, request: UpdateUserRequest) -> User:
    changes = request.model_dump(exclude_unset=True, exclude_none=True)
    for name in ("first_name", "last_name"):
        if name in changes:
            changes[name] = capitalise(changes[name])
    if not changes:
        return user
    now = utc_now()
    try:
        unit.commit(
            update_user_write(user.id, changes, now=now),
            audit_put("user_updated", user_id=user.id, source_ip=caller.source_ip, fields=sorted(changes)),
        )
    except unit.Refused as refused:  # the admin erased the user since it was read: as if it were already gone
        raise NotFound("User") from refused
    return stored_user(user, now, **changes)


def users_page(limit: int, offset: int) -> list[User]:
    """The admin's listing of users, newest first."""
    return stored.list_users(limit, offset)


def delete_user(caller: Caller, user: User) -> None:
    """Erase every item of the user (sessions, codes, key, ledger, tasks, its own audit), its uploaded files,
    and free its email."""
    stored.delete_items(stored.erasure_keys(user.id, user.email))
    _delete_files_of(user.id)
    record("admin_user_deleted", user_id=None, source_ip=caller.source_ip, deleted_user_id=user.id)


def _delete_files_of(user_id: str) -> None:
    """Attachments live under `<user id>/` (clara.domain.analysis.submission)."""
    attachments().delete_under(f"{user_id}/")
