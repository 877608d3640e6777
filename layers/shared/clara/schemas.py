"""Request bodies of the account routes. Unknown keys are refused (the contract's "forbidden keys"), strings
are bounded, and anything else wrong is the 400 Invalid Schema envelope through the resolver factory."""

import math
import unicodedata
from typing import Annotated, Literal
from urllib.parse import unquote

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints

from clara.errors import InvalidSchema
from clara.formats import LazyModel
from clara.passwords import MAX_BYTES, MIN_LENGTH


def normalise_email(value: str) -> str:
    """The address as stored and mailed: RFC 5322 syntax that SES accepts (an ASCII local part, the domain in
    IDNA form), lower case. Syntax only: no DNS, so validation never waits on the network. ValueError otherwise.

    A loose pattern let addresses such as `a,b@example.com` register that no mail server takes, so their owner
    could never receive an activation code.
    """
    # Imported here: compiling its patterns costs ~30 ms, paid only by requests that carry an email.
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise ValueError("not an email address") from error
    email = (checked.ascii_email or checked.normalized).lower()
    if len(email) > 254:
        raise ValueError("not an email address")
    return email


def _email(value: str) -> str:
    return normalise_email(value)


NAME_MAX_LENGTH = 50
_NAME_PUNCTUATION = frozenset(" -'\u2019.")  # \u2019: the typographic apostrophe


def _name(value: str) -> str:
    """Letters of any script (with their combining marks), spaces, hyphens, apostrophes and dots, and at least one
    letter: what names hold, and not the URLs or sentences a name would carry into Clara's emails."""
    value = " ".join(value.split())
    if not value or len(value) > NAME_MAX_LENGTH:
        raise ValueError(f"a name has 1 to {NAME_MAX_LENGTH} characters")
    if not any(unicodedata.category(char).startswith("L") for char in value) or not all(
        char in _NAME_PUNCTUATION or unicodedata.category(char)[0] in "LM" for char in value
    ):
        raise ValueError("a name holds letters, spaces, hyphens, apostrophes and dots only")
    return value


def valid_name(value: str | None) -> str | None:
    """`value` as a name field stores it, or None when the schemas would refuse it (names from Google)."""
    try:
        return _name(value) if value else None
    except ValueError:
        return None


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
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH),
    Field(description="Letters of any script, spaces, hyphens, apostrophes and dots"),
    AfterValidator(_name),
]
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
    # Optional, so clients that never send it keep working for every account without 2FA.
    code: Annotated[
        Code | None,
        Field(
            description="The TWO_FACTOR_AUTH code, needed only when the account has 2FA on: without it, or with a "
            'wrong one, the answer is 401 with data {"is_2fa_enabled": true}, as for login. Linking Google to an '
            "account whose email was never verified removes its password and ends its sessions and API key token."
        ),
    ] = None


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
