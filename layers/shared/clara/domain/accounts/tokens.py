"""User tokens (`calzo_user_<JWT>`) and API key tokens (`clara_api_<JWT>`), HS256 (docs/contract.md, Tokens)."""

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import jwt

from clara.contract.errors import AuthenticationFailed
from clara.records.accounts import UserRecords
from clara.secrets import secret
from clara.settings import get_settings
from clara.store import users as stored

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    role: Literal["user", "api_key"]
    user_id: str
    # The session id (user tokens) or the API key id (API key tokens): the item every request checks.
    credential_id: str


def issue_user_token(user_id: str, session_id: str, expires_at: float) -> str:
    claims = {"sub": user_id, "role": "user", "sid": session_id, "iat": time.time(), "exp": expires_at}
    return get_settings().user_token_prefix + jwt.encode(claims, secret("jwt_secret_key"), algorithm=ALGORITHM)


def issue_api_key_token(user_id: str, api_key_id: str) -> str:
    """Deterministic for a key (no iat, no exp): View shows the same token until Reset replaces the key."""
    return get_settings().api_key_token_prefix + _signed_api_key(user_id, api_key_id, secret("jwt_secret_key"))


@lru_cache(maxsize=256)
def _signed_api_key(user_id: str, api_key_id: str, key: str) -> str:
    # The same text for the same key (and signing key), so a warm function signs it once.
    return jwt.encode({"sub": user_id, "role": "api_key", "jti": api_key_id}, key, algorithm=ALGORITHM)


def read_token(token: str) -> TokenClaims:
    """The claims of a user or API key token whose signature (and expiry, for user tokens) holds."""
    settings = get_settings()
    if token.startswith(settings.user_token_prefix):
        body = token[len(settings.user_token_prefix) :]
        role, credential_claim, required = "user", "sid", _USER_CLAIMS
    elif token.startswith(settings.api_key_token_prefix):
        body = token[len(settings.api_key_token_prefix) :]
        role, credential_claim, required = "api_key", "jti", _KEY_CLAIMS
    else:
        raise AuthenticationFailed()
    claims, expires_at = _signed_claims(body, secret("jwt_secret_key"), role, credential_claim, required)
    if expires_at is not None and not expires_at > time.time():  # PyJWT's rule: expired once exp <= now
        raise AuthenticationFailed()
    return claims


_USER_CLAIMS: tuple[str, ...] = ("sub", "sid", "exp", "iat")
_KEY_CLAIMS: tuple[str, ...] = ("sub", "jti")


@lru_cache(maxsize=1024)
def _signed_claims(
    body: str, key: str, role: str, credential_claim: str, required: tuple[str, ...]
) -> tuple[TokenClaims, float | None]:
    """A token's claims and expiry once its signature and claims hold, remembered by the warm instance: a client
    sends the same token with every request, and checking it again (PyJWT, about a fifth of a warm read's own
    time) cannot change the answer. The expiry can, so read_token checks it on each use; a refused token is not
    remembered (lru_cache keeps no exception), and the key is part of the entry, so a rotated key checks anew."""
    options = {"require": list(required), "verify_exp": False}
    try:
        claims = jwt.decode(body, key, algorithms=[ALGORITHM], options=options)  # type: ignore[arg-type]
    except jwt.PyJWTError as error:
        raise AuthenticationFailed() from error
    subject, credential, expires_at = claims["sub"], claims[credential_claim], claims.get("exp")
    if claims.get("role") != role or not isinstance(subject, str) or not isinstance(credential, str):
        raise AuthenticationFailed()
    if "exp" in required and (not isinstance(expires_at, int | float) or isinstance(expires_at, bool)):
        raise AuthenticationFailed()
    return TokenClaims(role, subject, credential), expires_at  # type: ignore[arg-type]


def token_holder(claims: TokenClaims) -> UserRecords | None:
    """The user a verified token names, in one read with the credential it was issued for, while that credential
    holds: a live session for a user token, the current API key for an API key token (a reset ends the old one)."""
    if claims.role == "user":
        records = stored.get_user_with(claims.user_id, session_id=claims.credential_id)
        holds = records is not None and records.session is not None and records.session.expires_at > time.time()
    else:
        records = stored.get_user_with(claims.user_id, api_key=True)
        holds = records is not None and records.api_key is not None and records.api_key.id == claims.credential_id
    return records if holds else None
