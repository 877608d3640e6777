"""Who a Google Sign-In ID token names, once google-auth has checked its signature, expiry and audience.

Any token that fails a check is the contract's 401; the log gets the kind of failure, never the token.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from clara.errors import AuthenticationFailed
from clara.observability import logger
from clara.settings import get_settings

if TYPE_CHECKING:
    from google.auth.transport.requests import Request

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})


@dataclass(frozen=True)
class GoogleIdentity:
    subject: str
    email: str
    email_verified: bool
    name: str
    given_name: str | None
    family_name: str | None


@cache
def _transport() -> "Request":
    # One transport per process, so that warm invocations reuse its connection to Google's certificate endpoint.
    # Imported here so that functions which never see a Google token do not pay for google-auth at cold start.
    from google.auth.transport.requests import Request

    return Request()


def verify_google_id_token(token: str) -> GoogleIdentity:
    """The identity in `token`, or AuthenticationFailed if Google did not issue it for this application."""
    from google.auth.exceptions import GoogleAuthError
    from google.oauth2 import id_token

    settings = get_settings()
    if not settings.google_client_id:
        # Without an audience google-auth would accept a token minted for any application.
        logger.warning("Google sign-in refused: GOOGLE_CLIENT_ID is not configured")
        raise AuthenticationFailed()
    try:
        claims = id_token.verify_token(
            token, _transport(), audience=settings.google_client_id, certs_url=settings.google_certs_url
        )
    except (ValueError, GoogleAuthError) as error:
        logger.info("Google ID token refused", extra={"error_type": type(error).__name__})
        raise AuthenticationFailed() from error
    if claims.get("iss") not in GOOGLE_ISSUERS or not claims.get("sub") or not claims.get("email"):
        logger.info("Google ID token refused", extra={"error_type": "UnexpectedClaims"})
        raise AuthenticationFailed()
    return _identity(claims)


def _identity(claims: Mapping[str, Any]) -> GoogleIdentity:
    email = str(claims["email"]).lower()
    given_name, family_name = claims.get("given_name"), claims.get("family_name")
    # `name` comes only with the profile scope; fall back on what the token does carry.
    name = claims.get("name") or " ".join(part for part in (given_name, family_name) if part) or email
    return GoogleIdentity(
        subject=str(claims["sub"]),
        email=email,
        # Google sends a boolean; some older tokens carried the string "true".
        email_verified=claims.get("email_verified") in (True, "true"),
        name=str(name),
        given_name=given_name,
        family_name=family_name,
    )
