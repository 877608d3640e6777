"""Auth: register, Google sign-in, login and logout, password change, one-time codes, activation, 2FA (emailed
codes or an authenticator app)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InactiveUser,
    InvalidSchema,
    NotFound,
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
from clara.http.auth import Role, authenticate, rate_limit_by_address, source_ip, user_in_path
from clara.http.openapi import NO_CONTENT, Success, documented
from clara.integrations.google_identity import verify_google_id_token
from clara.integrations.mail import Mailer
from clara.records.accounts import AdminUserView, AdminUserWithToken, UserView, UserWithToken

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
accounts_ports.google.plug(lambda: verify_google_id_token)
accounts_ports.mail.plug(Mailer)

app = create_app()
# Who may call each route: documented on the route and checked by authenticate, from one tuple.
KEYS = (Role.PUBLIC, Role.PRIVATE)
USER = (Role.USER,)
USER_OR_KEYS = (Role.USER, Role.PUBLIC, Role.PRIVATE)


REGISTERED = Success(201, UserWithToken | AdminUserWithToken, "User registered successfully.")


@app.post(
    "/auth/register",
    **documented(
        "Register an account (inactive until its emailed code activates it)",
        REGISTERED,
        auth=KEYS,
        body=RegisterRequest,
        errors=(AlreadyExists("User"), ServiceBusy),
    ),
)
def register() -> Response[Any]:
    caller = authenticate(app.current_event, *KEYS)
    user, token = registration.register(read_body(app.current_event, RegisterRequest), caller)
    view = AdminUserWithToken if caller.is_admin else UserWithToken
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


@app.delete(
    "/auth/session",
    **documented("Log out: the token's session ends", NO_CONTENT, auth=USER),
)
def logout() -> Response[Any]:
    sign_in.logout(authenticate(app.current_event, *USER))
    return NO_CONTENT.answer()


PASSWORD_CHANGED = Success(200, None, "User password changed successfully.")


@app.patch(
    "/users/<user_email>/password",
    **documented(
        "Change the password with a CHANGE_PASSWORD code; every other session ends and the API key is replaced",
        PASSWORD_CHANGED,
        auth=USER_OR_KEYS,
        body=ChangePasswordRequest,
        errors=(NotFound("User"),),
    ),
)
def change_password(user_email: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER_OR_KEYS)
    email = email_in_path(user_email)
    codes.ensure_may_act_on_email(caller, email)
    codes.change_password(caller, email, read_body(app.current_event, ChangePasswordRequest))
    return PASSWORD_CHANGED.answer()


OTP_SENT = Success(201, None, "OTP sent successfully.")


@app.post(
    "/users/<user_email>/otp/<otp_type>",
    **documented(
        "Email a one-time code (otp_type: ACTIVATION, CHANGE_PASSWORD or TWO_FACTOR_AUTH)",
        OTP_SENT,
        auth=KEYS,
        errors=(InvalidSchema, NotFound("User"), ServiceBusy),
    ),
)
def send_otp(user_email: str, otp_type: str) -> Response[Any]:
    caller = authenticate(app.current_event, *KEYS)
    codes.send_otp(caller, email_in_path(user_email), otp_type)
    return OTP_SENT.answer()


ACTIVATED = Success(200, UserView | AdminUserView, "User activated successfully.")


@app.post(
    "/users/<user_email>/activate",
    **documented(
        "Activate the account with its ACTIVATION code",
        ACTIVATED,
        auth=KEYS,
        body=CodeRequest,
        errors=(NotFound("User"),),
    ),
)
def activate(user_email: str) -> Response[Any]:
    caller = authenticate(app.current_event, *KEYS)
    email = email_in_path(user_email)
    user = codes.activate(caller, email, read_body(app.current_event, CodeRequest).code)
    return ACTIVATED.answer(user.admin_view() if caller.is_admin else user.view())


TWO_FACTOR_ENABLED = Success(200, None, "User 2FA enabled successfully.")


@app.post(
    "/users/<user_id>/2fa",
    **documented(
        "Turn 2FA on with a TWO_FACTOR_AUTH code",
        TWO_FACTOR_ENABLED,
        auth=USER,
        body=CodeRequest,
        errors=(InactiveUser,),
    ),
)
def enable_two_factor(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER, active=True)
    user = user_in_path(caller, user_id)
    codes.set_two_factor(caller, user, read_body(app.current_event, CodeRequest).code, enabled=True)
    return TWO_FACTOR_ENABLED.answer()


USER_OR_SUPPORT = (Role.USER, Role.PRIVATE)


@app.delete(
    "/users/<user_id>/2fa",
    **documented(
        "Turn 2FA off with a TWO_FACTOR_AUTH code (with an authenticator app: its code or a recovery code); with "
        "the private key, support turns it off for an owner who lost the factor (no body; the owner is emailed)",
        NO_CONTENT,
        auth=USER_OR_SUPPORT,
        body=TwoFactorCodeRequest,
        errors=(InactiveUser, NotFound("User")),
    ),
)
def disable_two_factor(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER_OR_SUPPORT, active=True)
    user = user_in_path(caller, user_id)
    if caller.is_admin:
        codes.reset_two_factor(caller, user)
    else:
        codes.set_two_factor(caller, user, read_body(app.current_event, TwoFactorCodeRequest).code, enabled=False)
    return NO_CONTENT.answer()


ENROLMENT_STARTED = Success(201, Enrolment, "Authenticator enrolment started successfully.")


@app.post(
    "/users/<user_id>/2fa/totp",
    **documented(
        "Start adding an authenticator app: its secret, otpauth:// URI and QR code (pending for 10 minutes)",
        ENROLMENT_STARTED,
        auth=USER,
        errors=(InactiveUser, AlreadyExists("Authenticator")),
    ),
)
def start_authenticator(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER, active=True)
    enrolment = authenticator.start_authenticator(caller, user_in_path(caller, user_id))
    return ENROLMENT_STARTED.answer(enrolment)


# The same message as turning emailed 2FA on: 2FA is on, now with the authenticator app and its recovery codes.
AUTHENTICATOR_CONFIRMED = Success(200, RecoveryCodes, TWO_FACTOR_ENABLED.message)


@app.post(
    "/users/<user_id>/2fa/totp/confirm",
    **documented(
        "Turn 2FA on with the authenticator app, by its current code and a fresh proof besides the token (the "
        "password or an emailed code; the emailed code when emailed 2FA is on): 10 recovery codes, shown this once",
        AUTHENTICATOR_CONFIRMED,
        auth=USER,
        body=ConfirmAuthenticatorRequest,
        errors=(InactiveUser,),
    ),
)
def confirm_authenticator(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER, active=True)
    user = user_in_path(caller, user_id)
    request = read_body(app.current_event, ConfirmAuthenticatorRequest)
    _, codes = authenticator.confirm_authenticator(
        caller, user, request.code, password=request.password, email_code=request.email_code
    )
    return AUTHENTICATOR_CONFIRMED.answer(RecoveryCodes(recovery_codes=codes))


@app.delete(
    "/users/<user_id>/2fa/totp",
    **documented(
        "Back to emailed 2FA codes: the authenticator app and its recovery codes are removed (its code or a "
        "recovery code)",
        NO_CONTENT,
        auth=USER,
        body=TwoFactorCodeRequest,
        errors=(InactiveUser,),
    ),
)
def switch_to_emailed_codes(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER, active=True)
    user = user_in_path(caller, user_id)
    authenticator.switch_to_emailed_codes(caller, user, read_body(app.current_event, TwoFactorCodeRequest).code)
    return NO_CONTENT.answer()


RECOVERY_CODES_GENERATED = Success(201, RecoveryCodes, "Recovery codes generated successfully.")


@app.post(
    "/users/<user_id>/2fa/recovery-codes",
    **documented(
        "New recovery codes in place of the old ones, for a current code of the authenticator app",
        RECOVERY_CODES_GENERATED,
        auth=USER,
        body=CodeRequest,
        errors=(InactiveUser,),
    ),
)
def regenerate_recovery_codes(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER, active=True)
    user = user_in_path(caller, user_id)
    _, codes = authenticator.regenerate_recovery_codes(caller, user, read_body(app.current_event, CodeRequest).code)
    return RECOVERY_CODES_GENERATED.answer(RecoveryCodes(recovery_codes=codes))


lambda_handler = lambda_handler_for(app)
