"""Users: the domain model, its public views, and the repository (the only code that stores or reads them)."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from clara import dynamo
from clara.dynamo import Item, email_pk, user_pk
from clara.formats import HttpDate, LazyModel, Money, json_ready

USER_SK = "USER"
OtpType = Literal["ACTIVATION", "TWO_FACTOR_AUTH", "CHANGE_PASSWORD"]
TwoFactorMethod = Literal["email", "totp"]


class User(LazyModel):
    id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    password_hash: str | None = None
    is_active: bool = False
    is_2fa_enabled: bool = False
    two_factor_method: TwoFactorMethod = "email"  # what 2FA asks for when on (clara.totp for "totp")
    recovery_codes_left: int = 0
    is_dark_mode: bool = True
    credits: Money = Decimal(0)
    stripe_customer_id: str | None = None
    google_user_id: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def can_use_the_api(self) -> bool:
        """Active with both names: what routes for active users require (else 401 "Please activate ...")."""
        return self.is_active and bool(self.first_name) and bool(self.last_name)

    def view(self) -> "UserView":
        return UserView.model_validate(self.model_dump())

    def admin_view(self) -> "AdminUserView":
        return AdminUserView.model_validate(self.model_dump())


class UserView(LazyModel):
    """The user object of the contract (docs/contract.md, Users)."""

    id: str
    email: str
    first_name: str | None
    last_name: str | None
    credits: Money
    is_active: bool
    is_2fa_enabled: bool
    is_dark_mode: bool
    created_at: HttpDate
    updated_at: HttpDate
    # Added by issue 15, after the contract's fields: clients that do not know them can ignore them.
    two_factor_method: TwoFactorMethod = Field(
        description='The code 2FA asks for when is_2fa_enabled: "email" (emailed codes) or "totp" (an '
        "authenticator app, or one of its recovery codes)"
    )
    recovery_codes_left: int = Field(description="Unused recovery codes of the authenticator app (0 without one)")


class AdminUserView(UserView):
    """What the private key sees: the hidden fields too, except the password hash, which never leaves the table."""

    stripe_customer_id: str | None
    google_user_id: str | None


class UserWithToken(UserView):
    token: str


class AdminUserWithToken(AdminUserView):
    token: str


class Otp(LazyModel):
    user_id: str
    type: OtpType
    code_hash: str
    expires_at: float  # epoch seconds; also the item's TTL
    sent_at: float
    attempts: int = 0


# ----------------------------------------------------------------------------------------- items <-> models


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def user_item(user: User) -> Item:
    data = json_ready(user)  # the balance stays an exact number
    data.update(
        pk=user_pk(user.id),
        sk=USER_SK,
        kind="user",
        gsi1pk=email_pk(user.email),
        gsi1sk=USER_SK,
        gsi2pk="USERS",
        gsi2sk=f"{_iso(user.created_at)}#{user.id}",
    )
    return {name: value for name, value in data.items() if value is not None}


def user_from_item(item: Mapping[str, Any]) -> User:
    return User.model_validate(item)


def otp_item(otp: Otp, email: str) -> Item:
    return {
        **otp.model_dump(),
        "pk": user_pk(otp.user_id),
        "sk": f"OTP#{otp.type}",
        "kind": "otp",
        "gsi1pk": email_pk(email),
        "gsi1sk": f"OTP#{otp.type}",
        "expires_at": int(otp.expires_at),
    }


class UserRecords(LazyModel):
    """A user with the items that came with it in the same read (live OTPs, login counters, a session)."""

    user: User
    otps: dict[str, Otp] = Field(default_factory=dict)
    login_counters: dict[str, Item] = Field(default_factory=dict)  # by sort key (clara.lockout)
    session: Item | None = None
    api_key: Item | None = None


def _records(items: Iterable[Item]) -> UserRecords | None:
    user: User | None = None
    otps: dict[str, Otp] = {}
    session: Item | None = None
    api_key: Item | None = None
    login_counters: dict[str, Item] = {}
    for item in items:
        if item["sk"] == USER_SK:
            user = user_from_item(item)
        elif item["sk"].startswith("OTP#"):
            otps[item["type"]] = Otp.model_validate(item)
        elif item["sk"].startswith("SESSION#"):
            session = item
        elif item["sk"] == "API_KEY":
            api_key = item
        elif item["sk"].startswith("LOGIN#"):
            login_counters[item["sk"]] = item
    if user is None:
        return None
    return UserRecords(user=user, otps=otps, login_counters=login_counters, session=session, api_key=api_key)


# ----------------------------------------------------------------------------------------- reads


def get_user(user_id: str) -> User | None:
    item = dynamo.get(user_pk(user_id), USER_SK)
    return user_from_item(item) if item else None


def get_user_with(user_id: str, *other_sort_keys: str) -> UserRecords | None:
    """The user and some of its items (a session, OTPs) in one BatchGetItem round trip."""
    found = dynamo.batch_get([(user_pk(user_id), USER_SK), *((user_pk(user_id), sk) for sk in other_sort_keys)])
    return _records(found.values())


def find_by_email(email: str) -> UserRecords | None:
    """The user, its live OTPs and login counters in one Query of the email index (eventually consistent)."""
    items = dynamo.query(
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :email",
        ExpressionAttributeValues=dynamo.values(email=email_pk(email)),
    )
    return _records(items)


def list_users(limit: int, offset: int) -> list[User]:
    return [user_from_item(item) for item in dynamo.newest_first("USERS", limit, offset)]


def all_item_keys(user_id: str) -> list[tuple[str, str]]:
    """Every item stored under the user (sessions, OTPs, keys, transactions, tasks, audit...)."""
    items = dynamo.query(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=dynamo.values(pk=user_pk(user_id)),
        ProjectionExpression="pk, sk",
        ConsistentRead=True,  # an erasure must see items written a moment ago (an undone registration's)
    )
    return [(item["pk"], item["sk"]) for item in items]


def session_keys(user_id: str) -> list[tuple[str, str]]:
    items = dynamo.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :session)",
        ExpressionAttributeValues=dynamo.values(pk=user_pk(user_id), session="SESSION#"),
        ProjectionExpression="pk, sk",
        ConsistentRead=True,  # revocation must see a session created a moment ago
    )
    return [(item["pk"], item["sk"]) for item in items]
