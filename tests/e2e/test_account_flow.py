"""Accounts and authentication over HTTP against the local runtime, as a client sees them: the whole sign-up to
password-change flow, one user's token on another's routes, the emails, and bad input.

Every response of this module goes through `Api`, which asserts the envelope (data, message, status; a 204 with
an empty body) and that it is not a 5xx before the test looks at it.
"""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from harness.accounts import FIELD_ERRORS_OR_NULL
from harness.client import (
    ACTIVATED,
    AUTH_FAILED,
    EMPTY_BODY,
    FETCHED,
    INVALID_SCHEMA,
    LOGGED_IN,
    METHOD_NOT_ALLOWED,
    NO_ACCESS,
    OTP_SENT,
    PASSWORD_CHANGED,
    PRIVATE_KEY,
    PUBLIC_KEY,
    RATE_LIMITED,
    ROUTE_NOT_FOUND,
    TWO_FACTOR_ENABLED,
    TWO_FACTOR_REQUIRED,
    UPDATED,
    USER_FIELDS,
    WELCOME_SUBJECT,
    Account,
    Api,
    Mailbox,
    active_account,
    basic,
    bearer,
    code_in,
    expect,
    fetch,
    login,
    register,
    send_otp,
    text_of,
)
from harness.runtime import Runtime

pytestmark = pytest.mark.e2e

UNAUTHENTICATED = {"data": None, "message": AUTH_FAILED, "status": "error"}


# ------------------------------------------------------------------------------------------- 1. the whole flow


def test_register_activate_2fa_login_logout_and_change_password(api: Api, mailbox: Mailbox) -> None:
    # Register: an inactive user and a token that works at once.
    account = register(api, "flow")
    registered = expect(fetch(api, account), 200, FETCHED)
    assert (registered["is_active"], registered["is_2fa_enabled"]) == (False, False)
    assert (registered["first_name"], registered["last_name"]) == ("Ada", "Lovelace")

    # Activate with the code of the welcome email; the code is used once.
    code = code_in(mailbox.next_email(account.email, WELCOME_SUBJECT))
    activated = expect(
        api.call("POST", f"/users/{account.email}/activate", auth=PUBLIC_KEY, json={"code": code}), 200, ACTIVATED
    )
    assert set(activated) == USER_FIELDS
    assert (activated["id"], activated["is_active"]) == (account.id, True)
    again = api.call("POST", f"/users/{account.email}/activate", auth=PUBLIC_KEY, json={"code": code})
    assert (again.status_code, again.json()) == (401, UNAUTHENTICATED)

    # Log in with the password: a new session.
    data = expect(login(api, account.email, account.password), 200, LOGGED_IN)
    assert (data["id"], data["is_active"], data["is_2fa_enabled"]) == (account.id, True, False)
    login_token = data["token"]
    assert login_token != account.token
    expect(fetch(api, account, login_token), 200, FETCHED)

    # Enable 2FA with a TWO_FACTOR_AUTH code; a second send while that code is live is refused (30 s rule).
    expect(send_otp(api, account.email, "TWO_FACTOR_AUTH"), 201, OTP_SENT, None)
    resent = send_otp(api, account.email, "TWO_FACTOR_AUTH")
    assert (resent.status_code, resent.json()["message"]) == (429, RATE_LIMITED)
    assert int(resent.headers["Retry-After"]) >= 1
    enable_code = mailbox.next_code(account.email, "TWO_FACTOR_AUTH")
    enable = api.call("POST", f"/users/{account.id}/2fa", auth=bearer(login_token), json={"code": enable_code})
    expect(enable, 200, TWO_FACTOR_ENABLED, None)
    assert expect(fetch(api, account, login_token), 200)["is_2fa_enabled"] is True

    # With 2FA on, the password alone (or with a wrong code) is a 401 that tells the client to ask for the code.
    without_code = login(api, account.email, account.password)
    assert (without_code.status_code, without_code.json()) == (401, TWO_FACTOR_REQUIRED)
    wrong_code = login(api, account.email, account.password, "000000" if enable_code != "000000" else "111111")
    assert (wrong_code.status_code, wrong_code.json()) == (401, TWO_FACTOR_REQUIRED)
    used_code = login(api, account.email, account.password, enable_code)
    assert (used_code.status_code, used_code.json()) == (401, TWO_FACTOR_REQUIRED)

    # The enabling code was consumed, so a fresh one may be sent at once; with it the login succeeds, once.
    expect(send_otp(api, account.email, "TWO_FACTOR_AUTH"), 201, OTP_SENT)
    login_code = mailbox.next_code(account.email, "TWO_FACTOR_AUTH")
    data = expect(login(api, account.email, account.password, login_code), 200, LOGGED_IN)
    assert (data["id"], data["is_2fa_enabled"]) == (account.id, True)
    two_factor_token = data["token"]
    replay = login(api, account.email, account.password, login_code)
    assert (replay.status_code, replay.json()) == (401, TWO_FACTOR_REQUIRED)

    # Logout ends that session only.
    logout = api.call("DELETE", "/auth/session", auth=bearer(login_token))
    expect(logout, 204)
    gone = fetch(api, account, login_token)
    assert (gone.status_code, gone.json()) == (401, UNAUTHENTICATED)
    again = api.call("DELETE", "/auth/session", auth=bearer(login_token))
    assert (again.status_code, again.json()) == (401, UNAUTHENTICATED)
    expect(fetch(api, account, two_factor_token), 200, FETCHED)
    expect(fetch(api, account, account.token), 200, FETCHED)

    # Change the password from the 2FA session: every other session ends, the caller's keeps working.
    expect(send_otp(api, account.email, "CHANGE_PASSWORD"), 201, OTP_SENT)
    change_code = mailbox.next_code(account.email, "CHANGE_PASSWORD")
    new_password = account.password + "-new"
    change = api.call(
        "PATCH",
        f"/users/{account.email}/password",
        auth=bearer(two_factor_token),
        json={"password": new_password, "code": change_code},
    )
    expect(change, 200, PASSWORD_CHANGED, None)
    ended = fetch(api, account, account.token)
    assert (ended.status_code, ended.json()) == (401, UNAUTHENTICATED)
    expect(fetch(api, account, two_factor_token), 200, FETCHED)

    # The old password is refused outright (no 2FA prompt); the new one gets to the 2FA step, then in.
    old = login(api, account.email, account.password)
    assert (old.status_code, old.json()) == (401, UNAUTHENTICATED)
    new = login(api, account.email, new_password)
    assert (new.status_code, new.json()) == (401, TWO_FACTOR_REQUIRED)
    expect(send_otp(api, account.email, "TWO_FACTOR_AUTH"), 201, OTP_SENT)
    code = mailbox.next_code(account.email, "TWO_FACTOR_AUTH")
    data = expect(login(api, account.email, new_password, code), 200, LOGGED_IN)
    expect(fetch(api, account, data["token"]), 200, FETCHED)


def test_a_password_reset_with_the_public_key_ends_every_session(api: Api, mailbox: Mailbox) -> None:
    account = active_account(api, mailbox, "reset")
    other = expect(login(api, account.email, account.password), 200, LOGGED_IN)["token"]

    expect(send_otp(api, account.email, "CHANGE_PASSWORD"), 201, OTP_SENT)
    code = mailbox.next_code(account.email, "CHANGE_PASSWORD")
    wrong = "000000" if code != "000000" else "111111"
    body = {"password": "a-brand-new-password", "code": wrong}
    refused = api.call("PATCH", f"/users/{account.email}/password", auth=PUBLIC_KEY, json=body)
    assert (refused.status_code, refused.json()) == (401, UNAUTHENTICATED)
    body["code"] = code
    expect(api.call("PATCH", f"/users/{account.email}/password", auth=PUBLIC_KEY, json=body), 200, PASSWORD_CHANGED)

    for token in (account.token, other):
        ended = fetch(api, account, token)
        assert (ended.status_code, ended.json()) == (401, UNAUTHENTICATED)
    assert login(api, account.email, account.password).status_code == 401
    expect(login(api, account.email, "a-brand-new-password"), 200, LOGGED_IN)


def test_2fa_needs_an_active_account_and_can_be_turned_off_with_a_code(api: Api, mailbox: Mailbox) -> None:
    account = register(api, "disable-2fa")
    inactive = api.call("POST", f"/users/{account.id}/2fa", auth=bearer(account.token), json={"code": "123456"})
    assert (inactive.status_code, inactive.json()["message"]) == (
        401,
        "Please activate your account to access the requested resource.",
    )
    code = code_in(mailbox.next_email(account.email, WELCOME_SUBJECT))
    expect(api.call("POST", f"/users/{account.email}/activate", auth=PUBLIC_KEY, json={"code": code}), 200)

    expect(send_otp(api, account.email, "TWO_FACTOR_AUTH"), 201, OTP_SENT)
    code = mailbox.next_code(account.email, "TWO_FACTOR_AUTH")
    wrong = "000000" if code != "000000" else "111111"
    refused = api.call("POST", f"/users/{account.id}/2fa", auth=bearer(account.token), json={"code": wrong})
    assert (refused.status_code, refused.json()) == (401, TWO_FACTOR_REQUIRED)
    enable = api.call("POST", f"/users/{account.id}/2fa", auth=bearer(account.token), json={"code": code})
    expect(enable, 200, TWO_FACTOR_ENABLED)

    expect(send_otp(api, account.email, "TWO_FACTOR_AUTH"), 201, OTP_SENT)
    code = mailbox.next_code(account.email, "TWO_FACTOR_AUTH")
    expect(api.call("DELETE", f"/users/{account.id}/2fa", auth=bearer(account.token), json={"code": code}), 204)

    assert expect(fetch(api, account), 200, FETCHED)["is_2fa_enabled"] is False
    expect(login(api, account.email, account.password), 200, LOGGED_IN)


def test_the_profile_can_be_read_and_updated_by_its_owner(api: Api, mailbox: Mailbox) -> None:
    account = active_account(api, mailbox, "profile")
    before = expect(fetch(api, account), 200, FETCHED)

    body = {"first_name": "grace  brewster", "last_name": "hopper", "is_dark_mode": False}
    updated = expect(api.call("PATCH", f"/users/{account.id}", auth=bearer(account.token), json=body), 200, UPDATED)

    assert set(updated) == USER_FIELDS
    assert (updated["first_name"], updated["last_name"], updated["is_dark_mode"]) == ("Grace Brewster", "Hopper", False)
    assert expect(fetch(api, account), 200, FETCHED) == updated
    assert {name: updated[name] for name in ("id", "email", "credits", "created_at")} == {
        name: before[name] for name in ("id", "email", "credits", "created_at")
    }


# ------------------------------------------------------------------------------------------- 2. another user's routes


@dataclass
class TwoUsers:
    a: Account
    b: Account
    b_before: dict[str, Any]


@pytest.fixture(scope="module")
def two_users(api: Api, mailbox: Mailbox) -> TwoUsers:
    """A and B, both active (2FA routes want an active caller, else 401 before the ownership check)."""
    a = active_account(api, mailbox, "user-a")
    b = active_account(api, mailbox, "user-b")
    return TwoUsers(a, b, expect(fetch(api, b), 200, FETCHED))


FOREIGN_ROUTES: dict[str, Callable[[TwoUsers], tuple[str, str, Any]]] = {
    "view": lambda u: ("GET", f"/users/{u.b.id}", None),
    "update": lambda u: ("PATCH", f"/users/{u.b.id}", {"first_name": "Mallory", "is_dark_mode": False}),
    "enable 2fa": lambda u: ("POST", f"/users/{u.b.id}/2fa", {"code": "123456"}),
    "disable 2fa": lambda u: ("DELETE", f"/users/{u.b.id}/2fa", {"code": "123456"}),
    "change password": lambda u: (
        "PATCH",
        f"/users/{u.b.email}/password",
        {"password": "mallory-was-here", "code": "123456"},
    ),
    "send otp (a public-key route)": lambda u: ("POST", f"/users/{u.b.email}/otp/CHANGE_PASSWORD", None),
    "activate (a public-key route)": lambda u: ("POST", f"/users/{u.b.email}/activate", {"code": "123456"}),
    "admin: list users": lambda u: ("GET", "/users", None),
    "admin: set credits": lambda u: ("PUT", f"/users/{u.b.id}/credits", {"credits": 1000}),
    "admin: set own credits": lambda u: ("PUT", f"/users/{u.a.id}/credits", {"credits": 1000}),
    "admin: delete user": lambda u: ("DELETE", f"/users/{u.b.id}", None),
    "admin: add transaction": lambda u: (
        "POST",
        f"/users/{u.b.id}/transactions",
        {"description": "gift", "value_in_credits": 1000, "type": "CREDIT"},
    ),
    "admin: add own transaction": lambda u: (
        "POST",
        f"/users/{u.a.id}/transactions",
        {"description": "gift", "value_in_credits": 1000, "type": "CREDIT"},
    ),
}


@pytest.mark.parametrize("route", FOREIGN_ROUTES.values(), ids=FOREIGN_ROUTES.keys())
def test_a_user_token_gets_403_on_every_route_of_another_user(
    api: Api, two_users: TwoUsers, route: Callable[[TwoUsers], tuple[str, str, Any]]
) -> None:
    method, path, body = route(two_users)

    response = api.call(method, path, auth=bearer(two_users.a.token), json=body)

    assert (response.status_code, response.json()) == (403, {"data": None, "message": NO_ACCESS, "status": "error"})
    # B is untouched: same profile (updated_at included), same password, its token still good; A keeps 0 credits.
    assert expect(fetch(api, two_users.b), 200, FETCHED) == two_users.b_before
    expect(login(api, two_users.b.email, two_users.b.password), 200, LOGGED_IN)
    assert expect(fetch(api, two_users.a), 200, FETCHED)["credits"] == 0


def test_the_private_key_reaches_any_user_and_the_public_key_none(api: Api, two_users: TwoUsers) -> None:
    """The other side of the matrix: the admin sees B (with the hidden fields), the public key does not."""
    admin_view = expect(api.call("GET", f"/users/{two_users.b.id}", auth=PRIVATE_KEY), 200, FETCHED)
    assert set(admin_view) == USER_FIELDS | {"stripe_customer_id", "google_user_id"}
    assert "password_hash" not in admin_view

    public = api.call("GET", f"/users/{two_users.b.id}", auth=PUBLIC_KEY)
    assert (public.status_code, public.json()["message"]) == (403, NO_ACCESS)
    listing = api.call("GET", "/users", auth=PUBLIC_KEY)
    assert (listing.status_code, listing.json()["message"]) == (403, NO_ACCESS)


# ------------------------------------------------------------------------------------------- 3. emails and secrets


def test_the_welcome_email_has_headers_both_parts_and_the_code(api: Api, mailbox: Mailbox) -> None:
    account = register(api, "welcome")

    message = mailbox.next_email(account.email, WELCOME_SUBJECT)

    assert message["From"] and "@" in str(message["From"])
    assert str(message["To"]) == account.email
    assert message["Subject"] == WELCOME_SUBJECT
    assert message.is_multipart()
    text, html = text_of(message, "plain"), text_of(message, "html")
    code = code_in(message)
    assert code in text
    assert code in html
    assert "Ada" in text
    assert "<" in html
    # Both parts carry the activation link (the mailbox's text part names the HTML link's address).
    link = f"/auth/email/activate?email={account.email.replace('@', '%40')}&code={code}"
    assert "activate your account here (" in text and f"{link})" in text
    assert link.replace("&", "&amp;") in html
    # The code in the email is the one that activates the account.
    activate = api.call("POST", f"/users/{account.email}/activate", auth=PUBLIC_KEY, json={"code": code})
    expect(activate, 200, ACTIVATED)


def test_no_email_and_no_log_line_contains_a_password(api: Api, mailbox: Mailbox, module_runtime: Runtime) -> None:
    """Every request that carries a password, right or wrong, then the whole mailbox and log of the runtime."""
    first = "Sekrit-first-" + "1f3a9c"
    second = "Sekrit-second-" + "7d2e4b"
    wrong = "Sekrit-wrong-" + "9a8b7c"
    too_short = "Sk-5x"
    account = register(api, "secrets", password=first)
    duplicate = {"first_name": "a", "last_name": "b", "email": account.email, "password": wrong}
    assert api.call("POST", "/auth/register", auth=PUBLIC_KEY, json=duplicate).status_code == 400
    invalid = {"first_name": "a", "last_name": "b", "email": "not-an-email", "password": wrong, "extra": 1}
    assert api.call("POST", "/auth/register", auth=PUBLIC_KEY, json=invalid).status_code == 400
    short = {"first_name": "a", "last_name": "b", "email": "short@example.com", "password": too_short}
    assert api.call("POST", "/auth/register", auth=PUBLIC_KEY, json=short).status_code == 400
    code = code_in(mailbox.next_email(account.email, WELCOME_SUBJECT))
    expect(api.call("POST", f"/users/{account.email}/activate", auth=PUBLIC_KEY, json={"code": code}), 200)
    assert login(api, account.email, wrong).status_code == 401
    token = expect(login(api, account.email, first), 200, LOGGED_IN)["token"]
    expect(send_otp(api, account.email, "CHANGE_PASSWORD"), 201)
    change_code = mailbox.next_code(account.email, "CHANGE_PASSWORD")
    change = {"password": second, "code": change_code}
    expect(api.call("PATCH", f"/users/{account.email}/password", auth=bearer(token), json=change), 200)
    expect(login(api, account.email, second), 200, LOGGED_IN)

    secrets = [first, second, wrong, too_short]
    secrets += [basic(account.email, password).removeprefix("Basic ") for password in (first, second, wrong)]
    emails = mailbox.all_bytes()
    assert emails
    for raw in emails:
        for secret in secrets:
            assert secret.encode() not in raw, f"an email contains {secret!r}"
    log = module_runtime.log()
    for line in log.splitlines():
        for secret in secrets:
            assert secret not in line, f"a log line contains {secret!r}: {line[:300]}"


# ------------------------------------------------------------------------------------------- 4. bad input


@pytest.fixture(scope="module")
def owner(api: Api, mailbox: Mailbox) -> Account:
    return active_account(api, mailbox, "owner")


@dataclass(frozen=True)
class Bad:
    method: str
    path: str  # {id} and {email} are the owner's
    auth: str  # "public", "private", "owner" (Bearer) or "basic" (the owner's password)
    data: bytes | None = None
    json: Any = None
    headers: tuple[tuple[str, Any], ...] = ()
    status: int = 400
    message: str | None = INVALID_SCHEMA


REGISTER_OK = {"first_name": "a", "last_name": "b", "email": "valid@example.com", "password": "long-enough-pw"}
TEN_KB = "x" * 10_240

BAD_INPUT: dict[str, Bad] = {
    # Malformed JSON
    "register: malformed json": Bad("POST", "/auth/register", "public", data=b'{"first_name": "a",'),
    "patch user: malformed json": Bad("PATCH", "/users/{id}", "owner", data=b"{first_name: 'a'}"),
    "activate: malformed json": Bad("POST", "/users/{email}/activate", "public", data=b'{"code": "123456"'),
    "login: malformed json": Bad("POST", "/auth/session", "basic", data=b"{nope"),
    "register: json nested 100000 deep": Bad("POST", "/auth/register", "public", data=b"[" * 100_000),
    "register: a json array": Bad("POST", "/auth/register", "public", data=b"[]"),
    "register: json null": Bad("POST", "/auth/register", "public", data=b"null"),
    "register: a json string": Bad("POST", "/auth/register", "public", data=b'"hello"'),
    # No body, or one that is not JSON by its Content-Type
    "register: no body": Bad("POST", "/auth/register", "public", message=EMPTY_BODY),
    "activate: no body": Bad("POST", "/users/{email}/activate", "public", message=EMPTY_BODY),
    "register: text/plain body": Bad(
        "POST", "/auth/register", "public", data=b"{}", headers=(("Content-Type", "text/plain"),), message=EMPTY_BODY
    ),
    # Wrong types
    "register: a number as first name": Bad("POST", "/auth/register", "public", json={**REGISTER_OK, "first_name": 1}),
    "register: a list as email": Bad("POST", "/auth/register", "public", json={**REGISTER_OK, "email": ["a@b.co"]}),
    "patch user: a string as is_dark_mode": Bad("PATCH", "/users/{id}", "owner", json={"is_dark_mode": "false"}),
    "patch user: a number as is_dark_mode": Bad("PATCH", "/users/{id}", "owner", json={"is_dark_mode": 0}),
    "patch user: an object as last name": Bad("PATCH", "/users/{id}", "owner", json={"last_name": {"a": 1}}),
    "activate: a number as code": Bad("POST", "/users/{email}/activate", "public", json={"code": 123456}),
    "activate: five digits": Bad("POST", "/users/{email}/activate", "public", json={"code": "12345"}),
    "login: a number as code": Bad("POST", "/auth/session", "basic", json={"code": 123456}),
    "set credits: a string": Bad("PUT", "/users/{id}/credits", "private", json={"credits": "lots"}),
    "set credits: negative": Bad("PUT", "/users/{id}/credits", "private", json={"credits": -1}),
    "set credits: 1e400": Bad("PUT", "/users/{id}/credits", "private", data=b'{"credits": 1e400}'),
    "set credits: NaN": Bad("PUT", "/users/{id}/credits", "private", data=b'{"credits": NaN}'),
    "admin list: limit not a number": Bad("GET", "/users?limit=many", "private"),
    # Unknown or forbidden keys
    "register: unknown key": Bad("POST", "/auth/register", "public", json={**REGISTER_OK, "is_admin": True}),
    "register: is_active": Bad("POST", "/auth/register", "public", json={**REGISTER_OK, "is_active": True}),
    "patch user: credits": Bad("PATCH", "/users/{id}", "owner", json={"credits": 1_000_000}),
    "patch user: email": Bad("PATCH", "/users/{id}", "owner", json={"email": "other@example.com"}),
    "patch user: password": Bad("PATCH", "/users/{id}", "owner", json={"password": "long-enough-pw"}),
    "patch user: is_2fa_enabled": Bad("PATCH", "/users/{id}", "owner", json={"is_2fa_enabled": True}),
    "patch user: is_active": Bad("PATCH", "/users/{id}", "owner", json={"is_active": False}),
    "patch user: id": Bad("PATCH", "/users/{id}", "owner", json={"id": "user_0"}),
    "activate: unknown key": Bad("POST", "/users/{email}/activate", "public", json={"code": "123456", "x": 1}),
    "login: unknown key": Bad("POST", "/auth/session", "basic", json={"otp": "123456"}),
    # 10 KB strings
    "register: 10 KB first name": Bad("POST", "/auth/register", "public", json={**REGISTER_OK, "first_name": TEN_KB}),
    "register: 10 KB password": Bad("POST", "/auth/register", "public", json={**REGISTER_OK, "password": TEN_KB}),
    "register: 10 KB email": Bad(
        "POST", "/auth/register", "public", json={**REGISTER_OK, "email": TEN_KB + "@example.com"}
    ),
    "patch user: 10 KB last name": Bad("PATCH", "/users/{id}", "owner", json={"last_name": TEN_KB}),
    "activate: 10 KB code": Bad("POST", "/users/{email}/activate", "public", json={"code": TEN_KB}),
    "send otp: 10 KB email in the path": Bad("POST", f"/users/{TEN_KB}@example.com/otp/ACTIVATION", "public"),
    "login: a 10 KB basic password": Bad(
        "POST",
        "/auth/session",
        "public",
        headers=(("Authorization", basic("someone@example.com", TEN_KB)),),
        status=401,
        message=AUTH_FAILED,
    ),
    # Invalid UTF-8
    "activate: invalid utf-8 in the code": Bad(
        "POST", "/users/{email}/activate", "public", data=b'{"code": "12\xff\xfe56"}'
    ),
    "register: invalid utf-8 in a name": Bad(
        "POST",
        "/auth/register",
        "public",
        data=b'{"first_name": "\xff\xfe", "last_name": "b", "email": "utf8@example.com", "password": "long-enough-pw"}',
    ),
    "patch user: invalid utf-8 in a name": Bad("PATCH", "/users/{id}", "owner", data=b'{"last_name": "\xc3\x28"}'),
    "register: a lone surrogate": Bad("POST", "/auth/register", "public", json={**REGISTER_OK, "first_name": "\ud800"}),
    "send otp: invalid utf-8 in the path": Bad("POST", "/users/%FF%FE@example.com/otp/ACTIVATION", "public"),
    "login: non-ascii in the basic credentials": Bad(
        "POST",
        "/auth/session",
        "public",
        headers=(("Authorization", b"Basic \xff\xfe\xfd"),),
        status=401,
        message=AUTH_FAILED,
    ),
    "login: basic credentials that are not utf-8": Bad(
        "POST",
        "/auth/session",
        "public",
        headers=(("Authorization", "Basic " + base64.b64encode(b"\xff@example.com:\xfe").decode()),),
        status=401,
        message=AUTH_FAILED,
    ),
    # Bad emails in the path
    "send otp: not an email": Bad("POST", "/users/not-an-email/otp/ACTIVATION", "public"),
    "activate: not an email": Bad("POST", "/users/a@b@c.com/activate", "public", json={"code": "123456"}),
    "change password: not an email": Bad(
        "PATCH", "/users/nobody/password", "public", json={"password": "long-enough-pw", "code": "123456"}
    ),
    # Bad OTP types
    "send otp: unknown type": Bad("POST", "/users/{email}/otp/RESET_EVERYTHING", "public"),
    "send otp: lower-case type": Bad("POST", "/users/{email}/otp/activation", "public"),
    # A method a known path does not have
    "PUT /auth/session": Bad("PUT", "/auth/session", "public", status=405, message=METHOD_NOT_ALLOWED),
    "GET /auth/register": Bad("GET", "/auth/register", "public", status=405, message=METHOD_NOT_ALLOWED),
    "DELETE /users/{email}/activate": Bad(
        "DELETE", "/users/{email}/activate", "public", status=405, message=METHOD_NOT_ALLOWED
    ),
    "GET /users/{email}/otp/ACTIVATION": Bad(
        "GET", "/users/{email}/otp/ACTIVATION", "public", status=405, message=METHOD_NOT_ALLOWED
    ),
    "POST /users/{id}": Bad("POST", "/users/{id}", "owner", status=405, message=METHOD_NOT_ALLOWED),
    "PUT /users/{id}/2fa": Bad("PUT", "/users/{id}/2fa", "owner", status=405, message=METHOD_NOT_ALLOWED),
    "GET /users/{email}/password": Bad(
        "GET", "/users/{email}/password", "owner", status=405, message=METHOD_NOT_ALLOWED
    ),
    # An unknown path
    "an unknown route under /users": Bad(
        "GET", "/users/{id}/no-such-thing/here", "owner", status=404, message=ROUTE_NOT_FOUND
    ),
}


def _send_bad(api: Api, owner: Account, case: Bad) -> requests.Response:
    credentials = {
        "public": PUBLIC_KEY,
        "private": PRIVATE_KEY,
        "owner": bearer(owner.token),
        "basic": basic(owner.email, owner.password),
    }
    path = case.path.replace("{id}", owner.id).replace("{email}", owner.email)
    return api.call(
        case.method, path, auth=credentials[case.auth], json=case.json, data=case.data, headers=dict(case.headers)
    )


@pytest.mark.parametrize("case", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_a_4xx_envelope(api: Api, owner: Account, case: Bad) -> None:
    before = expect(fetch(api, owner), 200, FETCHED)

    response = _send_bad(api, owner, case)

    assert response.status_code == case.status, response.text[:500]
    if case.message is not None:
        assert response.json()["message"] == case.message
    # Nothing of the request echoed back: no data, or the fields that were wrong and why (issue 23, item 7).
    assert response.json()["data"] == FIELD_ERRORS_OR_NULL
    assert expect(fetch(api, owner), 200, FETCHED) == before


def test_a_body_on_get_is_ignored_or_refused_never_a_500(api: Api, owner: Account) -> None:
    before = expect(fetch(api, owner), 200, FETCHED)

    response = api.call(
        "GET", f"/users/{owner.id}", auth=bearer(owner.token), data=json.dumps({"first_name": "Changed"})
    )

    assert response.status_code in (200, 400), response.text[:500]
    if response.status_code == 200:
        assert response.json() == {"data": before, "message": FETCHED, "status": "success"}
    assert expect(fetch(api, owner), 200, FETCHED) == before


# ------------------------------------------------------------------------------------------- 5. envelopes


def test_every_response_of_the_module_went_through_the_envelope_check(api: Api) -> None:
    """Api checks each response in a requests hook; this makes sure the hook is wired (it counts what it saw)."""
    seen = api.checked

    response = api.call("GET", "/health")

    assert response.status_code == 200
    assert api.checked == seen + 1
    with pytest.raises(AssertionError, match="not the envelope"):
        api._check(_fake_response(b'{"ok": true}'))
    with pytest.raises(AssertionError, match="204 with a body"):
        api._check(_fake_response(b"{}", status=204))


def _fake_response(content: bytes, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.headers["Content-Type"] = "application/json"
    response.request = requests.Request("GET", "http://127.0.0.1/api/v1/x").prepare()
    return response
