"""User tokens (`calzo_user_<JWT>`) and API key tokens (`clara_api_<JWT>`), HS256 (docs/contract.md, Tokens)."""

import time
from dataclasses import dataclass
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
    claims = {"sub": user_id, "role": "api_key", "jti": api_key_id}
    return get_settings().api_key_token_prefix + jwt.encode(claims, secret("jwt_secret_key"), algorithm=ALGORITHM)


def read_token(token: str) -> TokenClaims:
    """The claims of a user or API key token whose signature (and expiry, for user tokens) holds."""
    settings = get_settings()
    if token.startswith(settings.user_token_prefix):
        role, body, credential_claim = "user", token[len(settings.user_token_prefix) :], "sid"
        required = ["sub", "sid", "exp", "iat"]
    elif token.startswith(settings.api_key_token_prefix):
        role, body, credential_claim = "api_key", token[len(settings.api_key_token_prefix) :], "jti"
        required = ["sub", "jti"]
    else:
        raise AuthenticationFailed()
    try:
        claims = jwt.decode(body, secret("jwt_secret_key"), algorithms=[ALGORITHM], options={"require": required})
    except jwt.PyJWTError as error:
        raise AuthenticationFailed() from error
    subject, credential = claims["sub"], claims[credential_claim]
    if claims.get("role") != role or not isinstance(subject, str) or not isinstance(credential, str):
        raise AuthenticationFailed()
    return TokenClaims(role, subject, credential)  # type: ignore[arg-type]


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
