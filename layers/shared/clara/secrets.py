"""Secrets: from the environment locally, from Secrets Manager in the stack (cached), never logged.

For a secret named `jwt_secret_key`, JWT_SECRET_KEY holds the value itself (local runtime, tests), or
JWT_SECRET_KEY_SECRET_ID names the Secrets Manager secret that does (the deployed stack).
"""

import os
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


class MissingSecret(RuntimeError):
    pass


def secret(name: SecretName) -> str:
    """The secret's value; MissingSecret when it is configured nowhere (see optional_secret)."""
    variable = name.upper()
    if value := os.environ.get(variable):
        return value
    if secret_id := os.environ.get(f"{variable}_SECRET_ID"):
        from aws_lambda_powertools.utilities import parameters  # only the deployed stack needs it
        from aws_lambda_powertools.utilities.parameters.base import DEFAULT_PROVIDERS

        # get_secret's provider, on the client every other AWS call uses (its timeouts and retries, clara.aws).
        if "secrets" not in DEFAULT_PROVIDERS:
            DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(boto3_client=aws_client("secretsmanager"))
        return str(parameters.get_secret(secret_id, max_age=300))
    if get_settings().environment != "production" and name in _DEVELOPMENT_DEFAULTS:
        return _DEVELOPMENT_DEFAULTS[name]
    raise MissingSecret(f"{variable} or {variable}_SECRET_ID must be set")


def optional_secret(name: SecretName) -> str | None:
    """The secret's value, or None when it is configured nowhere (Stripe's key, when the stand-in serves)."""
    try:
        return secret(name)
    except MissingSecret:
        return None
