"""Request bodies of the account routes. Unknown keys are refused (the contract's "forbidden keys"), strings
are bounded, and anything else wrong is the 400 Invalid Schema envelope through the resolver factory."""

import math
import re
from typing import Annotated, Literal
from urllib.parse import unquote

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints

from clara.errors import InvalidSchema
from clara.formats import LazyModel
from clara.passwords import MAX_BYTES, MIN_LENGTH

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def _password(value: str) -> str:
    if len(value) < MIN_LENGTH or len(value.encode()) > MAX_BYTES:
        raise ValueError(f"a password has {MIN_LENGTH} characters or more and {MAX_BYTES} bytes or fewer")
    return value


CREDIT_DECIMALS = 6


def _credits(value: float) -> float:
    """Finite, with at most 6 decimals: DynamoDB keeps 38 significant digits and no magnitude below 1e-130, so a
    balance plus 1e-140 would fail the write (a 500) instead of being refused here (a 400)."""
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    if round(value, CREDIT_DECIMALS) != value:
        raise ValueError(f"at most {CREDIT_DECIMALS} decimal places")
    return value


# The descriptions and formats document in the OpenAPI document what the validators check.
Email = Annotated[
    str, StringConstraints(max_length=320), Field(json_schema_extra={"format": "email"}), AfterValidator(_email)
]
Password = Annotated[
    str,
    Field(
        min_length=MIN_LENGTH,
        max_length=MAX_BYTES,
        description=f"{MIN_LENGTH} characters or more and {MAX_BYTES} bytes or fewer (bcrypt's limit)",
    ),
    AfterValidator(_password),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]
# Strict: JSON numbers only (true or "5" is a 400, never a balance of 1 or 5).
Credits = Annotated[
    float,
    Field(ge=0, le=1e12, strict=True, description=f"At most {CREDIT_DECIMALS} decimal places"),
    AfterValidator(_credits),
]


class Body(LazyModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(Body):
    first_name: Name
    last_name: Name
    email: Email
    password: Password


class GoogleSignInRequest(Body):
    id_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class LoginRequest(Body):
    code: Code | None = None


class CodeRequest(Body):
    code: Code


class ChangePasswordRequest(Body):
    password: Password
    code: Code


class UpdateUserRequest(Body):
    """Only these may change; id, email, password, credits, flags and dates are refused as unknown keys."""

    first_name: Name | None = None
    last_name: Name | None = None
    is_dark_mode: StrictBool | None = None


class SetCreditsRequest(Body):
    credits: Credits


class NewTransactionRequest(Body):
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    value_in_credits: Annotated[Credits, Field(gt=0)]
    value_in_fiat: Credits = 0.0
    type: Literal["CREDIT", "DEBIT"]


def email_in_path(value: str) -> str:
    """A `{user_email}` path segment, decoded and checked like a body email (400 otherwise)."""
    try:
        return _email(unquote(value, errors="strict"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidSchema() from error
