"""Account logic, one module per concern: registration, sign-in (password, 2FA, Google), sessions, one-time codes,
activation, the profile, and the admin's user operations. Handlers call these; these call the repositories.

Every change is one DynamoDB transaction with its audit item, so nothing is half-done and every security event
is recorded. Emails go out after the change is stored.
"""

from clara.domain.accounts.authenticator import (
    confirm_authenticator,
    regenerate_recovery_codes,
    start_authenticator,
    switch_to_emailed_codes,
)
from clara.domain.accounts.codes import (
    activate,
    change_password,
    ensure_may_act_on_email,
    reset_two_factor,
    send_otp,
    set_two_factor,
)
from clara.domain.accounts.google import google_sign_in
from clara.domain.accounts.profile import delete_user, update_user
from clara.domain.accounts.registration import register
from clara.domain.accounts.sessions import OTP_TYPES, capitalise
from clara.domain.accounts.sign_in import login, logout, read_basic_credentials

__all__ = [
    "OTP_TYPES",
    "activate",
    "capitalise",
    "change_password",
    "confirm_authenticator",
    "delete_user",
    "ensure_may_act_on_email",
    "google_sign_in",
    "login",
    "logout",
    "read_basic_credentials",
    "regenerate_recovery_codes",
    "register",
    "reset_two_factor",
    "send_otp",
    "set_two_factor",
    "start_authenticator",
    "switch_to_emailed_codes",
    "update_user",
]
