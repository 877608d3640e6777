"""Request bodies of the account routes. Unknown keys are refused (the contract's "forbidden keys"), strings
are bounded, and anything else wrong is the 400 Invalid Schema envelope through the resolver factory."""

import json
import unicodedata
from decimal import Decimal
from typing import Annotated, Any, Literal, Self
from urllib.parse import unquote, urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic.config import ExtraValues
from pydantic_core import InitErrorDetails

from clara.contract.errors import InvalidSchema
from clara.formats import MONEY_DESCRIPTION, MONEY_MAX, MONEY_PLACES, LazyModel, json_text, money

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_BYTES = 72  # bcrypt reads no further; longer passwords are refused rather than silently cut


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
    if len(value) < PASSWORD_MIN_LENGTH or len(value.encode()) > PASSWORD_MAX_BYTES:
        raise ValueError(
            f"a password has {PASSWORD_MIN_LENGTH} characters or more and {PASSWORD_MAX_BYTES} bytes or fewer"
        )
    return value


CREDIT_DECIMALS = MONEY_PLACES


def _credits(value: object) -> Decimal:
    """A JSON number (ExactNumbersBody reads fractions as Decimal), finite, 0 to 10^12, with at most 6 decimals:
    DynamoDB keeps 38 significant digits and no magnitude below 1e-130, so a balance plus 1e-140 would fail the
    write (a 500) instead of being refused here (a 400). true or "5" is refused, never a balance of 1 or 5."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError("not a JSON number")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("not a finite number")
    if not 0 <= number <= MONEY_MAX:
        raise ValueError("not between 0 and 10^12")
    if number != number.quantize(Decimal(1).scaleb(-CREDIT_DECIMALS)):
        raise ValueError(f"at most {CREDIT_DECIMALS} decimal places")
    return money(number)


def _positive_credits(value: object) -> Decimal:
    number = _credits(value)
    if number <= 0:
        raise ValueError("not above 0")
    return number


# The descriptions and formats document in the OpenAPI document what the validators check.
Email = Annotated[
    str, StringConstraints(max_length=320), Field(json_schema_extra={"format": "email"}), AfterValidator(_email)
]
Password = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_BYTES,
        description=f"{PASSWORD_MIN_LENGTH} characters or more and {PASSWORD_MAX_BYTES} bytes or fewer "
        "(bcrypt's limit)",
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
# Where 2FA is checked: an emailed or authenticator-app code, or a recovery code (clara.domain.accounts.totp:
# xxxxx-xxxxx).
TwoFactorCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^([0-9]{6}|[A-Za-z2-7]{5}-[A-Za-z2-7]{5})$")
]
_CREDITS_SCHEMA = {
    "type": "number",
    "minimum": 0,
    "maximum": int(MONEY_MAX),
    "description": f"{MONEY_DESCRIPTION}; from 0 to 10^12",
}
Credits = Annotated[Decimal, BeforeValidator(_credits), WithJsonSchema(_CREDITS_SCHEMA)]
PositiveCredits = Annotated[
    Decimal,
    BeforeValidator(_positive_credits),
    WithJsonSchema({**{k: v for k, v in _CREDITS_SCHEMA.items() if k != "minimum"}, "exclusiveMinimum": 0}),
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
        TwoFactorCode | None,
        Field(
            description="The TWO_FACTOR_AUTH code, needed only when the account has 2FA on: without it, or with a "
            'wrong one, the answer is 401 with data {"is_2fa_enabled": true}, as for login. Linking Google to an '
            "account whose email was never verified removes its password and ends its sessions and API key token."
        ),
    ] = None


class LoginRequest(Body):
    code: TwoFactorCode | None = None


class CodeRequest(Body):
    code: Code


class ConfirmAuthenticatorRequest(Body):
    """The app's code, and a fresh proof besides the token: `password`, or `email_code` (which emailed 2FA needs)."""

    code: Code
    password: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=1024,
            description="The account's password: the proof besides the token while 2FA is off (a wrong one counts "
            "as a failed login). Accounts without a password (Google sign-in) send email_code instead",
        ),
    ] = None
    email_code: Annotated[
        Code | None,
        Field(
            description="A TWO_FACTOR_AUTH code emailed to the account (Send OTP): the proof besides the token in "
            "place of the password, and the one needed when 2FA is already on with emailed codes, as replacing a "
            "second factor takes a proof of the one in use"
        ),
    ] = None


class TwoFactorCodeRequest(Body):
    """A TWO_FACTOR_AUTH code; with an authenticator app (two_factor_method "totp"), its current code or a
    recovery code."""

    code: TwoFactorCode


class ChangePasswordRequest(Body):
    password: Password
    code: Code


class UpdateUserRequest(Body):
    """Only these may change; id, email, password, credits, flags and dates are refused as unknown keys."""

    first_name: Name | None = None
    last_name: Name | None = None
    is_dark_mode: StrictBool | None = None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


class ExactNumbersBody(Body):
    """A body whose JSON fractions are read as Decimal: pydantic's own JSON parser reads them as binary floats,
    so 1000000000000.000001 would arrive as 1000000000000.0."""

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        try:
            data = json.loads(json_data, parse_float=Decimal, parse_constant=_refuse_constant)
            json_text(data).encode()  # a lone surrogate (pydantic's parser refuses it) cannot be stored
        except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, NaN or Infinity; nested too deep
            raise ValidationError.from_exception_data(
                cls.__name__,
                [InitErrorDetails(type="json_invalid", input=str(json_data)[:100], ctx={"error": str(error)})],
            ) from error
        return cls.model_validate(data, strict=strict, extra=extra, context=context, by_alias=by_alias, by_name=by_name)


class SetCreditsRequest(ExactNumbersBody):
    credits: Credits


class NewTransactionRequest(ExactNumbersBody):
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    value_in_credits: PositiveCredits
    # The schema's default is the JSON number 0 (pydantic would write the Decimal as the string "0").
    value_in_fiat: Annotated[Credits, Field(json_schema_extra={"default": 0})] = Decimal(0)
    type: Literal["CREDIT", "DEBIT"]


def email_in_path(value: str) -> str:
    """A `{user_email}` path segment, decoded and checked like a body email (400 otherwise)."""
    try:
        return _email(unquote(value, errors="strict"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidSchema.because("user_email", "not an email address") from error


WebhookEventType = Literal["task.completed", "task.failed", "webhook.test"]


class NewWebhookRequest(Body):
    url: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
        Field(description="http(s) to a public address (https in production); checked again at every delivery"),
    ]
    events: Annotated[
        list[WebhookEventType] | None,
        Field(min_length=1, description="The event types to send here; every type when left out"),
    ] = None
    description: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=500)] = None


# ------------------------------------------------------------------------------------------- credits


def _relative_path(value: str) -> str:
    """A path on the front end (CLIENT_URL/<path>), never a URL of its own: no scheme, host or backslash."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("return_path must be a path on the client, not a URL")
    return value


class BuyRequest(Body):
    amount: Annotated[StrictInt, Field(ge=1)]  # whole dollars
    return_path: Annotated[str, StringConstraints(max_length=512), AfterValidator(_relative_path)]
