"""Auth: register, Google sign-in, login and logout, password change, one-time codes, activation, 2FA (emailed
codes or an authenticator app)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InvalidSchema,
    RateLimitExceeded,
    ServiceBusy,
)
from clara.contract.requests import (
    ChangePasswordRequest,
    CodeRequest,
    ConfirmAuthenticatorRequest,
    GoogleSignInRequest,
    LoginRequest,
    RegisterRequest,
    TwoFactorCodeRequest,
    email_in_path,
)
from clara.domain.accounts import authenticator, codes, google, registration, sign_in
from clara.domain.accounts import ports as accounts_ports
from clara.domain.accounts.totp import Enrolment, RecoveryCodes
from clara.http.app import create_app, lambda_handler_for, optional_body, read_body
from clara.http.auth import Role, rate_limit_by_address, source_ip
from clara.http.openapi import NO_CONTENT, Success, documented
from clara.http.routes import Call, Routes
from clara.integrations.google_identity import verify_google_id_token
from clara.integrations.mail import Mailer
from clara.records.accounts import AdminUserView, AdminUserWithToken, UserView, UserWithToken

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
accounts_ports.google.plug(lambda: verify_google_id_token)
accounts_ports.mail.plug(Mailer)

app = create_app()
# A user the path names by email may not exist (404).
routes = Routes(app, not_found={"user_email": "User"})
# Who may call each route (clara.http.routes checks the roles a route declares).
KEYS = (Role.PUBLIC, Role.PRIVATE)
USER = (Role.USER,)
USER_OR_KEYS = (Role.USER, Role.PUBLIC, Role.PRIVATE)
# The second factor is the active user's own to change, by a user token.
two_factor = Routes(app, auth=USER, active=True)


REGISTERED = Success(201, UserWithToken | AdminUserWithToken, "User registered successfully.")


@routes.post(
    "/auth/register",
    "Register an account (inactive until its emailed code activates it)",
    REGISTERED,
    auth=KEYS,
    body=RegisterRequest,
    errors=(AlreadyExists("User"), ServiceBusy),
)
def register(call: Call[RegisterRequest]) -> Response[Any]:
    user, token = registration.register(call.body, call.caller)
    view = AdminUserWithToken if call.caller.is_admin else UserWithToken
    return REGISTERED.answer(view(**user.model_dump(), token=token))


LOGGED_IN = Success(200, UserWithToken, "User logged in successfully.")
# Google sign-in registers the account on first use and logs in after: the messages of those routes, both 201.
REGISTERED_BY_GOOGLE = Success(201, UserWithToken, REGISTERED.message)
LOGGED_IN_BY_GOOGLE = Success(201, UserWithToken, LOGGED_IN.message)


@app.post(
    "/auth/google",
    **documented(
        "Sign in with a Google id_token (registers the account on first use; `code` too when 2FA is on)",
        (REGISTERED_BY_GOOGLE, LOGGED_IN_BY_GOOGLE),
        body=GoogleSignInRequest,
        errors=(AuthenticationFailed, RateLimitExceeded, ServiceBusy),
    ),
)
def google_sign_in() -> Response[Any]:
    rate_limit_by_address(app.current_event)
    request = read_body(app.current_event, GoogleSignInRequest)
    user, token, created = google.google_sign_in(request.id_token, request.code, source_ip(app.current_event))
    outcome = REGISTERED_BY_GOOGLE if created else LOGGED_IN_BY_GOOGLE
    return outcome.answer(UserWithToken(**user.model_dump(), token=token))


@app.post(
    "/auth/session",
    **documented(
        "Log in with email and password (and the 2FA code when 2FA is on)",
        LOGGED_IN,
        basic_auth=True,
        body=LoginRequest,
        body_required=False,
    ),
)
def login() -> Response[Any]:
    rate_limit_by_address(app.current_event)
    request = optional_body(app.current_event, LoginRequest)
    authorization = app.current_event.headers.get("Authorization")
    user, token = sign_in.login(authorization, request.code if request else None, source_ip(app.current_event))
    return LOGGED_IN.answer(UserWithToken(**user.model_dump(), token=token))


@routes.delete("/auth/session", "Log out: the token's session ends", NO_CONTENT, auth=USER)
def logout(call: Call[None]) -> Response[Any]:
    sign_in.logout(call.caller)
    return NO_CONTENT.answer()


PASSWORD_CHANGED = Success(200, None, "User password changed successfully.")


@routes.patch(
    "/users/<user_email>/password",
    "Change the password with a CHANGE_PASSWORD code; every other session ends and the API key is replaced",
    PASSWORD_CHANGED,
    auth=USER_OR_KEYS,
    body=ChangePasswordRequest,
)
def change_password(call: Call[ChangePasswordRequest], user_email: str) -> Response[Any]:
    email = email_in_path(user_email)
    codes.ensure_may_act_on_email(call.caller, email)  # whose email, before the body is read
    codes.change_password(call.caller, email, call.body)
    return PASSWORD_CHANGED.answer()


OTP_SENT = Success(201, None, "OTP sent successfully.")


@routes.post(
    "/users/<user_email>/otp/<otp_type>",
    "Email a one-time code (otp_type: ACTIVATION, CHANGE_PASSWORD or TWO_FACTOR_AUTH)",
    OTP_SENT,
    auth=KEYS,
    errors=(InvalidSchema, ServiceBusy),
)
def send_otp(call: Call[None], user_email: str, otp_type: str) -> Response[Any]:
    codes.send_otp(call.caller, email_in_path(user_email), otp_type)
    return OTP_SENT.answer()


ACTIVATED = Success(200, UserView | AdminUserView, "User activated successfully.")


@routes.post(
    "/users/<user_email>/activate",
    "Activate the account with its ACTIVATION code",
    ACTIVATED,
    auth=KEYS,
    body=CodeRequest,
)
def activate(call: Call[CodeRequest], user_email: str) -> Response[Any]:
    email = email_in_path(user_email)
    user = codes.activate(call.caller, email, call.body.code)
    return ACTIVATED.answer(user.admin_view() if call.caller.is_admin else user.view())


TWO_FACTOR_ENABLED = Success(200, None, "User 2FA enabled successfully.")


@two_factor.post(
    "/users/<user_id>/2fa", "Turn 2FA on with a TWO_FACTOR_AUTH code", TWO_FACTOR_ENABLED, body=CodeRequest
)
def enable_two_factor(call: Call[CodeRequest]) -> Response[Any]:
    codes.set_two_factor(call.caller, call.user, call.body.code, enabled=True)
    return TWO_FACTOR_ENABLED.answer()


@two_factor.delete(
    "/users/<user_id>/2fa",
    "Turn 2FA off with a TWO_FACTOR_AUTH code (with an authenticator app: its code or a recovery code); with "
    "the private key, support turns it off for an owner who lost the factor (no body; the owner is emailed)",
    NO_CONTENT,
    auth=(Role.USER, Role.PRIVATE),  # support, too
    body=TwoFactorCodeRequest,
)
def disable_two_factor(call: Call[TwoFactorCodeRequest]) -> Response[Any]:
    if call.caller.is_admin:
        codes.reset_two_factor(call.caller, call.user)
    else:
        codes.set_two_factor(call.caller, call.user, call.body.code, enabled=False)
    return NO_CONTENT.answer()


ENROLMENT_STARTED = Success(201, Enrolment, "Authenticator enrolment started successfully.")


@two_factor.post(
    "/users/<user_id>/2fa/totp",
    "Start adding an authenticator app: its secret, otpauth:// URI and QR code (pending for 10 minutes)",
    ENROLMENT_STARTED,
    errors=(AlreadyExists("Authenticator"),),
)
def start_authenticator(call: Call[None]) -> Response[Any]:
    enrolment = authenticator.start_authenticator(call.caller, call.user)
    return ENROLMENT_STARTED.answer(enrolment)


# The same message as turning emailed 2FA on: 2FA is on, now with the authenticator app and its recovery codes.
AUTHENTICATOR_CONFIRMED = Success(200, RecoveryCodes, TWO_FACTOR_ENABLED.message)


@two_factor.post(
    "/users/<user_id>/2fa/totp/confirm",
    "Turn 2FA on with the authenticator app, by its current code and a fresh proof besides the token (the "
    "password or an emailed code; the emailed code when emailed 2FA is on): 10 recovery codes, shown this once",
    AUTHENTICATOR_CONFIRMED,
    body=ConfirmAuthenticatorRequest,
)
def confirm_authenticator(call: Call[ConfirmAuthenticatorRequest]) -> Response[Any]:
    request = call.body
    _, codes = authenticator.confirm_authenticator(
        call.caller, call.user, request.code, password=request.password, email_code=request.email_code
    )
    return AUTHENTICATOR_CONFIRMED.answer(RecoveryCodes(recovery_codes=codes))


@two_factor.delete(
    "/users/<user_id>/2fa/totp",
    "Back to emailed 2FA codes: the authenticator app and its recovery codes are removed (its code or a recovery code)",
    NO_CONTENT,
    body=TwoFactorCodeRequest,
)
def switch_to_emailed_codes(call: Call[TwoFactorCodeRequest]) -> Response[Any]:
    authenticator.switch_to_emailed_codes(call.caller, call.user, call.body.code)
    return NO_CONTENT.answer()


RECOVERY_CODES_GENERATED = Success(201, RecoveryCodes, "Recovery codes generated successfully.")


@two_factor.post(
    "/users/<user_id>/2fa/recovery-codes",
    "New recovery codes in place of the old ones, for a current code of the authenticator app",
    RECOVERY_CODES_GENERATED,
    body=CodeRequest,
)
def regenerate_recovery_codes(call: Call[CodeRequest]) -> Response[Any]:
    _, codes = authenticator.regenerate_recovery_codes(call.caller, call.user, call.body.code)
    return RECOVERY_CODES_GENERATED.answer(RecoveryCodes(recovery_codes=codes))


lambda_handler = lambda_handler_for(app)
