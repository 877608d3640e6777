"""Password hashing with bcrypt, checked in constant time whether or not the account exists."""

from functools import cache

import bcrypt

from clara.contract.requests import PASSWORD_MAX_BYTES as MAX_BYTES
from clara.settings import get_settings


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(get_settings().bcrypt_rounds)).decode()


@cache
def _decoy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"decoy password of a user that does not exist", bcrypt.gensalt(rounds))


def verify_password(password: str, password_hash: str | None) -> bool:
    """One bcrypt check in every case, so an unknown email costs what a wrong password costs."""
    candidate = password.encode()
    if password_hash is None or len(candidate) > MAX_BYTES:
        bcrypt.checkpw(candidate[:MAX_BYTES], _decoy_hash(get_settings().bcrypt_rounds))
        return False
    return bcrypt.checkpw(candidate, password_hash.encode())
