"""Who is calling, once the HTTP layer (clara.http.auth) has checked the credential: the domain's view of a request's
caller, with no knowledge of headers or tokens."""

from dataclasses import dataclass
from enum import StrEnum

from clara.contract.errors import NoAccess
from clara.domain.models import User


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
