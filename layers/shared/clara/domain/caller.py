"""Who is calling, once the HTTP layer (clara.http.auth) has checked the credential: the domain's view of a request's
caller, with no knowledge of headers or tokens."""

from dataclasses import dataclass
from enum import StrEnum

from clara.contract.errors import NoAccess, NotFound
from clara.records.accounts import User
from clara.store import users as stored


class Role(StrEnum):
    PUBLIC = "public"  # the raw public API key, shared by every front end
    PRIVATE = "private"  # the raw private API key: the admin, may act on any user
    USER = "user"  # Bearer user token
    API_KEY = "api_key"  # Bearer API key token


@dataclass(frozen=True)
class Caller:
    role: Role
    source_ip: str
    user: User | None = None
    session_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.PRIVATE

    def own_user(self) -> User:
        if self.user is None:
            raise NoAccess()
        return self.user


def user_by_id(user_id: str) -> User:
    """The user `user_id` names, for a caller who may act on any user (the admin); 404 when there is none."""
    user = stored.get_user(user_id)
    if user is None:
        raise NotFound("User")
    return user
