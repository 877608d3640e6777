"""Auth: register, Google sign-in, login and logout, password change, one-time codes, activation, 2FA."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara import accounts
from clara.api import create_app, lambda_handler_for, optional_body, read_body
from clara.auth import Role, authenticate, rate_limit_by_address, source_ip, user_in_path
from clara.envelope import no_content, success
from clara.schemas import (
    ChangePasswordRequest,
    CodeRequest,
    GoogleSignInRequest,
    LoginRequest,
    RegisterRequest,
    email_in_path,
)
from clara.users import AdminUserWithToken, UserWithToken

app = create_app()


@app.post("/auth/register")
def register() -> Response[Any]:
    caller = authenticate(app.current_event, Role.PUBLIC, Role.PRIVATE)
    user, token = accounts.register(read_body(app.current_event, RegisterRequest), caller)
    view = AdminUserWithToken if caller.is_admin else UserWithToken
    return success(view(**user.model_dump(), token=token), "User registered successfully.", 201)


@app.post("/auth/google")
def google_sign_in() -> Response[Any]:
    rate_limit_by_address(app.current_event)
    request = read_body(app.current_event, GoogleSignInRequest)
    user, token, created = accounts.google_sign_in(request.id_token, source_ip(app.current_event))
    message = "User registered successfully." if created else "User logged in successfully."
    return success(UserWithToken(**user.model_dump(), token=token), message, 201)


@app.post("/auth/session")
def login() -> Response[Any]:
    rate_limit_by_address(app.current_event)
    request = optional_body(app.current_event, LoginRequest)
    authorization = app.current_event.headers.get("Authorization")
    user, token = accounts.login(authorization, request.code if request else None, source_ip(app.current_event))
    return success(UserWithToken(**user.model_dump(), token=token), "User logged in successfully.")


@app.delete("/auth/session")
def logout() -> Response[Any]:
    accounts.logout(authenticate(app.current_event, Role.USER))
    return no_content()


@app.patch("/users/<user_email>/password")
def change_password(user_email: str) -> Response[Any]:
    caller = authenticate(app.current_event, Role.USER, Role.PUBLIC, Role.PRIVATE)
    email = email_in_path(user_email)
    accounts.ensure_may_act_on_email(caller, email)
    accounts.change_password(caller, email, read_body(app.current_event, ChangePasswordRequest))
    return success(None, "User password changed successfully.")


@app.post("/users/<user_email>/otp/<otp_type>")
def send_otp(user_email: str, otp_type: str) -> Response[Any]:
    caller = authenticate(app.current_event, Role.PUBLIC, Role.PRIVATE)
    accounts.send_otp(caller, email_in_path(user_email), otp_type)
    return success(None, "OTP sent successfully.", 201)


@app.post("/users/<user_email>/activate")
def activate(user_email: str) -> Response[Any]:
    caller = authenticate(app.current_event, Role.PUBLIC, Role.PRIVATE)
    email = email_in_path(user_email)
    user = accounts.activate(caller, email, read_body(app.current_event, CodeRequest).code)
    return success(user.admin_view() if caller.is_admin else user.view(), "User activated successfully.")


@app.post("/users/<user_id>/2fa")
def enable_two_factor(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, Role.USER, active=True)
    user = user_in_path(caller, user_id)
    accounts.set_two_factor(caller, user, read_body(app.current_event, CodeRequest).code, enabled=True)
    return success(None, "User 2FA enabled successfully.")


@app.delete("/users/<user_id>/2fa")
def disable_two_factor(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, Role.USER, active=True)
    user = user_in_path(caller, user_id)
    accounts.set_two_factor(caller, user, read_body(app.current_event, CodeRequest).code, enabled=False)
    return no_content()


lambda_handler = lambda_handler_for(app)
