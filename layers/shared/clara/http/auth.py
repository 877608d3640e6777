"""Who is calling: the five credentials of docs/contract.md, Credentials, the rate limit, and ownership of path ids.

Every authenticated request costs at most two DynamoDB round trips: one BatchGetItem of the user with its session
(user token) or its API key (API key token), then the rate counter, of the user once the credential holds and of
the client address when it does not. The private key reads nothing.
"""

import hmac

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from clara.contract.errors import AuthenticationFailed, InactiveUser, NoAccess
from clara.domain import ratelimit
from clara.domain.accounts.tokens import read_token, token_holder
from clara.domain.caller import Caller, Role, user_by_id
from clara.records.accounts import User
from clara.secrets import secret

__all__ = ["Caller", "Role", "authenticate", "rate_limit_by_address", "source_ip", "user_in_path"]


def source_ip(event: APIGatewayProxyEvent) -> str:
    """The address API Gateway saw; never a client-supplied header."""
    return event.request_context.identity.source_ip or "unknown"


def rate_limit_by_address(event: APIGatewayProxyEvent) -> None:
    """For routes that take no credential (Google sign-in, login by Basic auth)."""
    ratelimit.count_request(f"ip#{source_ip(event)}")


def authenticate(event: APIGatewayProxyEvent, *allowed: Role, active: bool = False) -> Caller:
    """The caller behind the Authorization header, if its role is one of `allowed`.

    401 for a missing, unknown, expired or revoked credential; 403 for a valid one this route does not take;
    401 "Please activate ..." when `active` and the user is inactive or lacks a first or last name; 429 past
    the rate limit (per user for tokens, per client address for the public key and failed credentials).
    """
    header = (event.headers.get("Authorization") or "").strip()
    address = source_ip(event)

    if header.startswith("Bearer "):
        try:
            claims = read_token(header[len("Bearer ") :].strip())
        except AuthenticationFailed:
            ratelimit.count_request(f"ip#{address}")
            raise
        role = Role(claims.role)
        if role not in allowed:
            raise NoAccess()
        records = token_holder(claims)
        if records is None:
            # A revoked or rotated credential is counted against its sender, not the user it names, so it
            # cannot keep that user at 429.
            ratelimit.count_request(f"ip#{address}")
            raise AuthenticationFailed()
        ratelimit.count_request(f"user#{claims.user_id}")
        caller = Caller(role, address, records.user, claims.credential_id if role is Role.USER else None)
        if active and not records.user.can_use_the_api:
            raise InactiveUser()
        return caller

    if header and hmac.compare_digest(header.encode(), secret("private_api_key").encode()):
        if Role.PRIVATE not in allowed:
            raise NoAccess()
        return Caller(Role.PRIVATE, address)

    ratelimit.count_request(f"ip#{address}")
    if header and hmac.compare_digest(header.encode(), secret("public_api_key").encode()):
        if Role.PUBLIC not in allowed:
            raise NoAccess()
        return Caller(Role.PUBLIC, address)
    raise AuthenticationFailed()


def user_in_path(caller: Caller, user_id: str) -> User:
    """The user a `{user_id}` path names: the caller's own (403 for anyone else's), or any user for the admin."""
    if caller.is_admin:
        return user_by_id(user_id)
    own = caller.own_user()
    if own.id != user_id:
        raise NoAccess()
    return own
