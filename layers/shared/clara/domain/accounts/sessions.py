"""What the account modules share: a new session, a user update (and the user it leaves), names as stored."""

import time
from datetime import datetime
from typing import Any

from clara.domain.accounts.tokens import issue_user_token
from clara.formats import new_id, utc_now
from clara.records.accounts import OtpType, Session, User
from clara.settings import get_settings
from clara.store import credentials, unit
from clara.store import users as stored

OTP_TYPES: tuple[OtpType, ...] = ("ACTIVATION", "TWO_FACTOR_AUTH", "CHANGE_PASSWORD")


def capitalise(name: str | None) -> str | None:
    """Each word capitalised, as the contract stores names."""
    return " ".join(word[:1].upper() + word[1:] for word in name.split()) if name else name


def new_session(user_id: str) -> tuple[str, unit.Write]:
    """A user token and the write that stores its session."""
    now = time.time()
    expires_at = now + get_settings().session_expiry_in_days * 86400
    session = Session(
        id=new_id("session"), user_id=user_id, created_at=utc_now().isoformat(), expires_at=int(expires_at)
    )
    return issue_user_token(user_id, session.id, expires_at), credentials.new_session(session)


def update_user_write(
    user_id: str,
    changes: dict[str, Any],
    remove: tuple[str, ...] = (),
    *,
    now: datetime | None = None,
    add: dict[str, int] | None = None,
) -> unit.Write:
    """Set each change (and updated_at) on an existing user; remove the named attributes; add to counters."""
    return stored.update_user(user_id, changes, now=now or utc_now(), removed=remove, added=add)


def stored_user(user: User, now: datetime, **changes: Any) -> User:
    """The user as an update at `now` left it, without reading it back (the same updated_at as stored)."""
    return user.model_copy(update={**changes, "updated_at": now})
