"""Secrets: from the environment locally, from Secrets Manager in the stack (cached), never logged.

For a secret named `jwt_secret_key`, JWT_SECRET_KEY holds the value itself (local runtime, tests), or
JWT_SECRET_KEY_SECRET_ID names the Secrets Manager secret that does (the deployed stack).

A value read from Secrets Manager is kept for SECRET_MAX_AGE_SECONDS, so a rotated secret reaches every warm
instance within five minutes, and is read with the function's one client (clara.aws: its timeouts and retries).
This is what Powertools' `parameters.get_secret` did; its import, though, brings boto3 and its SSM, AppConfig and
DynamoDB providers into the first authenticated request of every function, about 104 M instructions (some 20 ms)
that one `GetSecretValue` call does not need (docs/budgets.md, Cold start).
"""

import os
import time
from typing import Literal

from clara.aws import aws_client
from clara.settings import get_settings

SecretName = Literal[
    "jwt_secret_key", "public_api_key", "private_api_key", "stripe_secret_key", "stripe_webhook_secret"
]

# Only outside production, so a laptop runs with no setup; production fails closed instead.
_DEVELOPMENT_DEFAULTS: dict[str, str] = {
    "jwt_secret_key": "clara-dev-jwt-secret-not-for-production",
    "public_api_key": "clara-dev-public-key",
    "private_api_key": "clara-dev-private-key",
}


SECRET_MAX_AGE_SECONDS = 300

# secret id -> (when it was read, time.monotonic(); its value). Emptied after a SnapStart restore (clara.snapstart).
fetched: dict[str, tuple[float, str]] = {}


class MissingSecret(RuntimeError):
    pass


def secret(name: SecretName) -> str:
    """The secret's value; MissingSecret when it is configured nowhere (see optional_secret)."""
    variable = name.upper()
    if value := os.environ.get(variable):
        return value
    if secret_id := os.environ.get(f"{variable}_SECRET_ID"):
        return _from_secrets_manager(secret_id)
    if get_settings().environment != "production" and name in _DEVELOPMENT_DEFAULTS:
        return _DEVELOPMENT_DEFAULTS[name]
    raise MissingSecret(f"{variable} or {variable}_SECRET_ID must be set")


def optional_secret(name: SecretName) -> str | None:
    """The secret's value, or None when it is configured nowhere (Stripe's key, when the stand-in serves)."""
    try:
        return secret(name)
    except MissingSecret:
        return None


def _from_secrets_manager(secret_id: str) -> str:
    now = time.monotonic()
    read_at, value = fetched.get(secret_id, (float("-inf"), ""))
    if now - read_at >= SECRET_MAX_AGE_SECONDS:
        value = aws_client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
        fetched[secret_id] = (now, value)
    return value
