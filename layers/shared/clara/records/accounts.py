"""The records of accounts as clara.store reads and writes them: plain models that know nothing of how they are
stored (clara.store turns items into these and back), and the user's public views."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from clara.formats import HttpDate, LazyModel, Money

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
    two_factor_method: TwoFactorMethod = "email"  # what 2FA asks for when on (clara.domain.accounts.totp for "totp")
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


# ------------------------------------------------------------------------------------------- credentials


class Session(LazyModel):
    """A signed-in session: the user token names it; it ends when logged out or at expires_at."""

    id: str
    user_id: str
    created_at: str
    expires_at: int  # epoch seconds; also the item's TTL


class Otp(LazyModel):
    user_id: str
    type: OtpType
    code_hash: str
    expires_at: float  # epoch seconds; also the item's TTL
    sent_at: float
    attempts: int = 0


class TotpPending(LazyModel):
    """An authenticator-app enrolment waiting for its first code (clara.domain.accounts.totp)."""

    user_id: str
    secret_ciphertext: str
    expires_at: int  # epoch seconds; also the item's TTL
    attempts: int = 0


class TotpFactor(LazyModel):
    """A confirmed authenticator app (clara.domain.accounts.totp): the last time step used, the recovery codes' HMACs,
    and the account's tries in the current clock hour, of app codes and of recovery codes."""

    user_id: str
    secret_ciphertext: str
    last_step: int
    recovery_codes: dict[str, bool] = Field(default_factory=dict)
    attempts: int = 0
    attempt_window: int = 0
    recovery_attempts: int = 0
    recovery_window: int = 0


class Notice(LazyModel):
    """A notice to email to a user (clara.domain.accounts.notices), stored with the change it tells of until it is sent.
    `change` is a clara.domain.accounts.ports.SecurityChange, or "webhook_disabled" (`detail`: the endpoint's URL);
    `source_ip` None means Clara support (or Clara itself)."""

    id: str
    user_id: str
    change: str
    email: str
    first_name: str | None = None
    source_ip: str | None = None
    detail: str | None = None
    created_at: datetime


class LoginCount(LazyModel):
    """One login-failure counter (clara.domain.accounts.lockout): its failures, and for an address's counter the end of
    its window (epoch seconds)."""

    attempts: int = 0
    window_end: float = 0


class LoginCounters(LazyModel):
    """A user's login-failure counters, by client address and by clock hour (epoch seconds // 3600)."""

    by_address: dict[str, LoginCount] = Field(default_factory=dict)
    by_hour: dict[int, LoginCount] = Field(default_factory=dict)


class ApiKey(LazyModel):
    id: str
    user_id: str
    created_at: datetime
    updated_at: datetime


class UserRecords(LazyModel):
    """A user with the items that came with it in the same read (live OTPs, login counters, a credential)."""

    user: User
    otps: dict[str, Otp] = Field(default_factory=dict)
    login_counters: LoginCounters = Field(default_factory=LoginCounters)
    session: Session | None = None
    api_key: ApiKey | None = None
