"""Who a Google Sign-In ID token names, once PyJWT has checked its signature (against Google's published keys),
expiry, issuer and audience.

Any token that fails a check is the contract's 401, and so is a token that cannot be checked because Google's keys
could not be fetched; the log gets the kind of failure, never the token.
"""

from collections.abc import Mapping
from functools import lru_cache
from http.client import HTTPException
from typing import Any

import jwt

from clara.contract.errors import AuthenticationFailed
from clara.domain.accounts.ports import GoogleIdentity
from clara.observability import logger
from clara.settings import get_settings

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
# Google signs ID tokens with RS256 only; naming it keeps any other algorithm (and "none") out.
ALGORITHMS = ["RS256"]
# Clock skew tolerated on exp and iat, between Google's clocks and Lambda's.
LEEWAY_SECONDS = 30
# Fetching the key set must fit well inside an API function's 15 s (template.yaml): PyJWKClient's default is 30 s.
JWKS_TIMEOUT_SECONDS = 5
# How long a fetched key set is used before it is fetched again. A token whose key id is not in the cached set
# makes PyJWKClient fetch it again at once (Google rotates its keys), but at most once per cooldown, so tokens with
# made-up key ids cannot turn every sign-in into a request to Google.
JWKS_LIFESPAN_SECONDS = 300
JWKS_REFETCH_COOLDOWN_SECONDS = 30
# Claims a token must carry, besides those PyJWT checks by value (aud, iss).
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "email"]


@lru_cache(maxsize=1)
def jwks_client(url: str) -> jwt.PyJWKClient:
    """One client per process (per key set URL), created on first use, so that warm invocations reuse its cached
    key set instead of fetching Google's keys for every sign-in. clara.snapstart clears it after a restore."""
    return jwt.PyJWKClient(
        url,
        cache_jwk_set=True,
        lifespan=JWKS_LIFESPAN_SECONDS,
        cooldown_duration=JWKS_REFETCH_COOLDOWN_SECONDS,
        timeout=JWKS_TIMEOUT_SECONDS,
    )


def verify_google_id_token(token: str) -> GoogleIdentity:
    """The identity in `token`, or AuthenticationFailed if Google did not issue it for this application."""
    settings = get_settings()
    if not settings.google_client_id:
        # Without an audience any application's token would do.
        logger.warning("Google sign-in refused: GOOGLE_CLIENT_ID is not configured")
        raise AuthenticationFailed()
    try:
        signing_key = jwks_client(settings.google_jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=ALGORITHMS,
            audience=settings.google_client_id,
            issuer=GOOGLE_ISSUERS,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    # PyJWTError: the token (malformed, bad signature, expired, wrong audience or issuer, missing claim, unknown
    # key id) or the key set (unreachable, not JSON, no keys). OSError and HTTPException: a connection dropped
    # while the key set was being read, which PyJWKClient does not wrap.
    except (jwt.PyJWTError, OSError, HTTPException) as error:
        logger.info("Google ID token refused", extra={"error_type": type(error).__name__})
        raise AuthenticationFailed() from error
    if not claims.get("sub") or not claims.get("email"):  # present (required above) but empty
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
