"""User tokens (`calzo_user_<JWT>`) and API key tokens (`clara_api_<JWT>`), HS256 (docs/contract.md, Tokens)."""

import time
from dataclasses import dataclass
from typing import Literal

import jwt

from clara.contract.errors import AuthenticationFailed
from clara.secrets import secret
from clara.settings import get_settings

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
