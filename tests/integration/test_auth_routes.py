"""Every auth route through its real lambda_handler: the happy path with what it stores, and each error status."""

import re

import pytest

from harness.accounts import (
    ADMIN_FIELDS,
    ALREADY_EXISTS,
    API,
    EMPTY_BODY,
    HTTP_DATE,
    INACTIVE,
    INVALID,
    NO_ACCESS,
    NOT_FOUND,
    PASSWORD,
    PRIVATE,
    PUBLIC,
    UNAUTHENTICATED,
    USER_FIELDS,
    basic,
    bearer,
    body,
    error,
    headers,
    item,
    latest_code,
    sent_messages,
    sessions_of,
    shift_otp_clock,
    success,
    user_item,
)

TWO_FA = {"is_2fa_enabled": True}


def register_body(email: str = "ada@example.com", **overrides) -> str:
    return body({"first_name": "ada", "last_name": "de lovelace", "email": email, "password": PASSWORD, **overrides})


# ------------------------------------------------------------------------------------------- register


def test_register_with_the_public_key_creates_an_inactive_user_with_a_session(call_api, stack):
    response = call_api("POST", f"{API}/auth/register", headers=headers(PUBLIC), body=register_body("Ada@Example.COM"))

    assert response.status == 201
    assert (response.json["message"], response.json["status"]) == ("User registered successfully.", "success")
    data = response.json["data"]
    assert set(data) == USER_FIELDS | {"token"}
    assert re.fullmatch(r"user_[0-9a-f]{32}", data["id"])
    assert data["email"] == "ada@example.com"
    assert (data["first_name"], data["last_name"]) == ("Ada", "De Lovelace")
    assert (data["credits"], data["is_active"], data["is_2fa_enabled"], data["is_dark_mode"]) == (0, False, False, True)
    assert HTTP_DATE.match(data["created_at"]) and HTTP_DATE.match(data["updated_at"])
    assert data["token"].startswith("calzo_user_")

    stored = user_item(stack, data["id"])
    assert stored["email"] == "ada@example.com" and stored["is_active"] is False
    assert stored["password_hash"].startswith("$2") and PASSWORD not in str(stored)
    assert item(stack, "EMAIL#ada@example.com", "EMAIL")["user_id"] == data["id"]
    assert item(stack, f"USER#{data['id']}", "API_KEY")["id"].startswith("api_key_")
    assert item(stack, f"USER#{data['id']}", "OTP#ACTIVATION") is not None
    assert len(sessions_of(stack, data["id"])) == 1
    [welcome] = sent_messages("ada@example.com")
    assert welcome.subject == "Welcome to Clara"
    assert re.search(r"\d{6}", welcome.body)

    # The token is usable at once.
    view = call_api("GET", f"{API}/users/{data['id']}", headers={"Authorization": bearer(data["token"])})
    assert view.status == 200


def test_register_with_the_private_key_shows_the_hidden_fields(call_api):
    response = call_api("POST", f"{API}/auth/register", headers=headers(PRIVATE), body=register_body())

    assert response.status == 201
    assert set(response.json["data"]) == ADMIN_FIELDS | {"token"}
    assert "password_hash" not in response.text


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@example.com"])
def test_register_twice_with_one_email_is_400_already_exists(call_api, stack, email):
    first = call_api("POST", f"{API}/auth/register", headers=headers(PUBLIC), body=register_body())
    assert first.status == 201

    again = call_api("POST", f"{API}/auth/register", headers=headers(PUBLIC), body=register_body(email))

    assert (again.status, again.json) == (400, error(ALREADY_EXISTS))
    users = call_api("GET", f"{API}/users", headers={"Authorization": PRIVATE})
    assert [u["id"] for u in users.json["data"]] == [first.json["data"]["id"]]


@pytest.mark.parametrize("authorization", [None, "", "wrong-key", "Bearer nonsense", basic("a@b.co", PASSWORD)])
def test_register_without_a_valid_key_is_401(call_api, authorization):
    response = call_api("POST", f"{API}/auth/register", headers=headers(authorization), body=register_body())

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


def test_register_with_a_user_token_is_403(call_api, accounts):
    account = accounts.register()

    response = call_api("POST", f"{API}/auth/register", headers=headers(account.auth), body=register_body("b@c.co"))

    assert (response.status, response.json) == (403, error(NO_ACCESS))


@pytest.mark.parametrize(
    ("content_type", "payload", "message"),
    [
        ("application/json", None, EMPTY_BODY),
        ("application/json", "   ", EMPTY_BODY),
        ("text/plain", register_body(), EMPTY_BODY),
        ("application/json", "{not json", INVALID),
        ("application/json", body({"first_name": "a", "last_name": "b", "email": "a@b.co"}), INVALID),
        ("application/json", register_body("not-an-email"), INVALID),
        ("application/json", register_body(first_name=""), INVALID),
        ("application/json", register_body(password="short12"), INVALID),
        ("application/json", register_body(is_active=True), INVALID),
    ],
    ids=["none", "blank", "text-plain", "malformed", "no-password", "bad-email", "empty-name", "short", "unknown"],
)
def test_register_with_a_bad_body_is_400_and_stores_nothing(call_api, stack, content_type, payload, message):
    response = call_api(
        "POST", f"{API}/auth/register", headers={"Authorization": PUBLIC, "Content-Type": content_type}, body=payload
    )

    assert (response.status, response.json) == (400, error(message))
    assert call_api("GET", f"{API}/users", headers={"Authorization": PRIVATE}).json["data"] == []
    assert sent_messages() == []


# ------------------------------------------------------------------------------------------- login


def test_login_creates_a_new_session(call_api, stack, accounts):
    account = accounts.register()

    response = accounts.login(account.email.upper())

    assert response.status == 200
    assert response.json["message"] == "User logged in successfully."
    data = response.json["data"]
    assert set(data) == USER_FIELDS | {"token"}
    assert data["id"] == account.id and data["token"].startswith("calzo_user_") and data["token"] != account.token
    assert len(sessions_of(stack, account.id)) == 2
    for token in (account.token, data["token"]):
        assert call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": bearer(token)}).status == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + "YWRhQGV4YW1wbGUuY29t",  # no colon
        "Bearer calzo_user_x",
        PUBLIC,
    ],
)
def test_login_without_basic_credentials_is_401(call_api, accounts, authorization):
    accounts.register("ada@example.com")

    response = call_api("POST", f"{API}/auth/session", headers=headers(authorization))

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


def test_login_with_a_wrong_password_or_unknown_email_is_401(call_api, stack, accounts):
    account = accounts.register()

    wrong = accounts.login(account.email, "not the password")
    unknown = accounts.login("nobody@example.com", PASSWORD)

    assert (wrong.status, wrong.json) == (401, error(UNAUTHENTICATED))
    assert (unknown.status, unknown.json) == (401, error(UNAUTHENTICATED))
    assert len(sessions_of(stack, account.id)) == 1


def test_login_with_2fa_needs_the_code(call_api, stack, accounts):
    account = accounts.active()
    accounts.enable_2fa(account)

    without = accounts.login(account.email)
    assert (without.status, without.json) == (401, error(UNAUTHENTICATED, TWO_FA))

    code = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")
    wrong = accounts.login(account.email, code=f"{(int(code) + 1) % 1_000_000:06d}")
    assert (wrong.status, wrong.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    sessions = len(sessions_of(stack, account.id))

    right = accounts.login(account.email, code=code)
    assert right.status == 200 and right.json["data"]["is_2fa_enabled"] is True
    assert item(stack, f"USER#{account.id}", "OTP#TWO_FACTOR_AUTH") is None
    assert len(sessions_of(stack, account.id)) == sessions + 1

    # The code was used: it does not sign in a second time.
    again = accounts.login(account.email, code=code)
    assert (again.status, again.json) == (401, error(UNAUTHENTICATED, TWO_FA))


def test_login_with_a_malformed_code_is_400(call_api, accounts):
    account = accounts.register()

    response = call_api(
        "POST", f"{API}/auth/session", headers=headers(basic(account.email, PASSWORD)), body=body({"code": "12ab"})
    )

    assert (response.status, response.json) == (400, error(INVALID))


# ------------------------------------------------------------------------------------------- logout


def test_logout_ends_only_the_presented_session(call_api, stack, accounts):
    account = accounts.register()  # inactive users may log out
    other = accounts.login_token(account)

    response = call_api("DELETE", f"{API}/auth/session", headers={"Authorization": account.auth})

    assert (response.status, response.text) == (204, "")
    assert len(sessions_of(stack, account.id)) == 1
    gone = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})
    assert (gone.status, gone.json) == (401, error(UNAUTHENTICATED))
    assert call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": bearer(other)}).status == 200
    again = call_api("DELETE", f"{API}/auth/session", headers={"Authorization": account.auth})
    assert (again.status, again.json) == (401, error(UNAUTHENTICATED))


@pytest.mark.parametrize("credential", ["public", "private", "api_key"])
def test_logout_with_a_credential_other_than_a_user_token_is_403(call_api, stack, accounts, credential):
    account = accounts.register()
    authorization = {"public": PUBLIC, "private": PRIVATE, "api_key": bearer(accounts.api_key_token(account))}

    response = call_api("DELETE", f"{API}/auth/session", headers={"Authorization": authorization[credential]})

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert len(sessions_of(stack, account.id)) == 1


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer calzo_user_garbage", "nonsense"])
def test_logout_without_a_valid_token_is_401(call_api, authorization):
    response = call_api(
        "DELETE", f"{API}/auth/session", headers={"Authorization": authorization} if authorization else {}
    )

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


# ------------------------------------------------------------------------------------------- change password


def change_password(call_api, email, authorization, password, code):
    return call_api(
        "PATCH",
        f"{API}/users/{email}/password",
        headers=headers(authorization),
        body=body({"password": password, "code": code}),
    )


@pytest.mark.parametrize("credential", ["public", "private", "own_token"])
def test_change_password_with_a_code(call_api, stack, accounts, credential):
    account = accounts.register()
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")
    authorization = {"public": PUBLIC, "private": PRIVATE, "own_token": account.auth}[credential]

    response = change_password(call_api, account.email, authorization, "a brand new password", code)

    assert (response.status, response.json) == (200, success(None, "User password changed successfully."))
    assert item(stack, f"USER#{account.id}", "OTP#CHANGE_PASSWORD") is None
    assert accounts.login(account.email, PASSWORD).status == 401
    assert accounts.login(account.email, "a brand new password").status == 200


def test_change_password_with_another_users_token_is_403(call_api, stack, accounts):
    victim, attacker = accounts.register(), accounts.register()
    code = accounts.send_otp(victim.email, "CHANGE_PASSWORD")
    before = user_item(stack, victim.id)

    response = change_password(call_api, victim.email, attacker.auth, "a brand new password", code)

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert user_item(stack, victim.id) == before
    assert item(stack, f"USER#{victim.id}", "OTP#CHANGE_PASSWORD") is not None


def test_change_password_with_an_api_key_token_is_403(call_api, stack, accounts):
    account = accounts.register()
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")

    response = change_password(
        call_api, account.email, bearer(accounts.api_key_token(account)), "a brand new password", code
    )

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert accounts.login(account.email, PASSWORD).status == 200


def test_change_password_with_a_wrong_or_missing_code_is_401(call_api, stack, accounts):
    account = accounts.register()
    before = user_item(stack, account.id)["password_hash"]

    no_code_sent = change_password(call_api, account.email, PUBLIC, "a brand new password", "123456")
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")
    wrong = change_password(call_api, account.email, PUBLIC, "a brand new password", f"{(int(code) + 1) % 10**6:06d}")

    assert (no_code_sent.status, no_code_sent.json) == (401, error(UNAUTHENTICATED))
    assert (wrong.status, wrong.json) == (401, error(UNAUTHENTICATED))
    assert user_item(stack, account.id)["password_hash"] == before


def test_change_password_of_an_unknown_email_is_404(call_api):
    response = change_password(call_api, "nobody@example.com", PUBLIC, "a brand new password", "123456")

    assert (response.status, response.json) == (404, error(NOT_FOUND))


def test_change_password_without_credentials_is_401(call_api, accounts):
    account = accounts.register()

    response = change_password(call_api, account.email, None, "a brand new password", "123456")

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, EMPTY_BODY),
        (body({"password": "a brand new password"}), INVALID),
        (body({"code": "123456"}), INVALID),
        (body({"password": "a brand new password", "code": 123456}), INVALID),
        (body({"password": "a brand new password", "code": "123456", "email": "x@y.co"}), INVALID),
    ],
    ids=["none", "no-code", "no-password", "int-code", "unknown-key"],
)
def test_change_password_with_a_bad_body_is_400(call_api, stack, accounts, payload, message):
    account = accounts.register()
    accounts.send_otp(account.email, "CHANGE_PASSWORD")
    before = user_item(stack, account.id)

    response = call_api("PATCH", f"{API}/users/{account.email}/password", headers=headers(PUBLIC), body=payload)

    assert (response.status, response.json) == (400, error(message))
    assert user_item(stack, account.id) == before


# ------------------------------------------------------------------------------------------- send OTP

SUBJECTS = {
    "ACTIVATION": "Your Clara activation code",
    "TWO_FACTOR_AUTH": "Your Clara sign-in code",
    "CHANGE_PASSWORD": "Your Clara password change code",
}


@pytest.mark.parametrize("otp_type", SUBJECTS)
@pytest.mark.parametrize("key", [PUBLIC, PRIVATE])
def test_send_otp_stores_a_hash_and_emails_the_code(call_api, stack, accounts, otp_type, key, monkeypatch):
    account = accounts.register()
    # The activation code of the registration was just sent: step past the 30-second resend window.
    shift_otp_clock(monkeypatch, 31)

    response = call_api("POST", f"{API}/users/{account.email}/otp/{otp_type}", headers={"Authorization": key})

    assert (response.status, response.json) == (201, success(None, "OTP sent successfully."))
    message = sent_messages(account.email)[-1]
    assert message.subject == SUBJECTS[otp_type]
    code = latest_code(account.email)
    stored = item(stack, f"USER#{account.id}", f"OTP#{otp_type}")
    assert stored["type"] == otp_type and code not in str(stored)
    assert code not in response.text


def test_send_otp_to_an_unknown_email_is_404(call_api):
    response = call_api("POST", f"{API}/users/nobody@example.com/otp/ACTIVATION", headers={"Authorization": PUBLIC})

    assert (response.status, response.json) == (404, error(NOT_FOUND))
    assert sent_messages() == []


@pytest.mark.parametrize("otp_type", ["RESET", "activation", "API_KEY", "%20"])
def test_send_otp_of_an_unknown_type_is_400(call_api, accounts, otp_type):
    account = accounts.register()
    sent = len(sent_messages())

    response = call_api("POST", f"{API}/users/{account.email}/otp/{otp_type}", headers={"Authorization": PUBLIC})

    assert (response.status, response.json) == (400, error(INVALID))
    assert len(sent_messages()) == sent


@pytest.mark.parametrize("email", ["not-an-email", "%ff", "a%40", "%40example.com"])
def test_send_otp_to_a_bad_email_is_400(call_api, email):
    response = call_api("POST", f"{API}/users/{email}/otp/ACTIVATION", headers={"Authorization": PUBLIC})

    assert (response.status, response.json) == (400, error(INVALID))


@pytest.mark.parametrize(
    ("authorization", "status", "message"), [(None, 401, UNAUTHENTICATED), ("x", 401, UNAUTHENTICATED)]
)
def test_send_otp_without_a_key_is_401(call_api, accounts, authorization, status, message):
    account = accounts.register()

    response = call_api(
        "POST",
        f"{API}/users/{account.email}/otp/CHANGE_PASSWORD",
        headers={"Authorization": authorization} if authorization else {},
    )

    assert (response.status, response.json) == (status, error(message))


def test_send_otp_with_a_user_token_is_403(call_api, accounts):
    account = accounts.register()

    response = call_api(
        "POST", f"{API}/users/{account.email}/otp/CHANGE_PASSWORD", headers={"Authorization": account.auth}
    )

    assert (response.status, response.json) == (403, error(NO_ACCESS))


# ------------------------------------------------------------------------------------------- activate


def activate(call_api, email, code, authorization=PUBLIC):
    return call_api("POST", f"{API}/users/{email}/activate", headers=headers(authorization), body=body({"code": code}))


def test_activate_with_the_emailed_code(call_api, stack, accounts):
    account = accounts.register()

    response = activate(call_api, account.email, latest_code(account.email))

    assert response.status == 200
    assert response.json["message"] == "User activated successfully."
    assert set(response.json["data"]) == USER_FIELDS
    assert response.json["data"]["is_active"] is True and response.json["data"]["id"] == account.id
    assert user_item(stack, account.id)["is_active"] is True
    assert item(stack, f"USER#{account.id}", "OTP#ACTIVATION") is None


def test_activate_with_the_private_key_shows_the_hidden_fields(call_api, accounts):
    account = accounts.register()

    response = activate(call_api, account.email, latest_code(account.email), PRIVATE)

    assert response.status == 200 and set(response.json["data"]) == ADMIN_FIELDS


def test_activate_with_a_wrong_or_used_code_is_401(call_api, stack, accounts):
    account = accounts.register()
    code = latest_code(account.email)

    wrong = activate(call_api, account.email, f"{(int(code) + 1) % 10**6:06d}")
    assert (wrong.status, wrong.json) == (401, error(UNAUTHENTICATED))
    assert user_item(stack, account.id)["is_active"] is False

    accounts.activate(account)
    used = activate(call_api, account.email, code)
    assert (used.status, used.json) == (401, error(UNAUTHENTICATED))


def test_activate_an_unknown_email_is_404(call_api):
    response = activate(call_api, "nobody@example.com", "123456")

    assert (response.status, response.json) == (404, error(NOT_FOUND))


@pytest.mark.parametrize(
    ("payload", "message"),
    [(None, EMPTY_BODY), (body({}), INVALID), (body({"code": "12345"}), INVALID), (body({"code": None}), INVALID)],
    ids=["none", "empty-object", "five-digits", "null"],
)
def test_activate_with_a_bad_body_is_400(call_api, stack, accounts, payload, message):
    account = accounts.register()

    response = call_api("POST", f"{API}/users/{account.email}/activate", headers=headers(PUBLIC), body=payload)

    assert (response.status, response.json) == (400, error(message))
    assert user_item(stack, account.id)["is_active"] is False


@pytest.mark.parametrize(("credential", "status"), [("none", 401), ("user", 403)])
def test_activate_without_a_key_is_refused(call_api, stack, accounts, credential, status):
    account = accounts.register()
    authorization = {"none": None, "user": account.auth}[credential]

    response = activate(call_api, account.email, latest_code(account.email), authorization)

    assert (response.status, response.json) == (status, error(UNAUTHENTICATED if status == 401 else NO_ACCESS))
    assert user_item(stack, account.id)["is_active"] is False


# ------------------------------------------------------------------------------------------- 2FA


def two_factor(call_api, method, account, code, authorization=None, user_id=None):
    return call_api(
        method,
        f"{API}/users/{user_id or account.id}/2fa",
        headers=headers(authorization or account.auth),
        body=body({"code": code}),
    )


def test_enable_then_disable_2fa(call_api, stack, accounts):
    account = accounts.active()

    enabled = two_factor(call_api, "POST", account, accounts.send_otp(account.email, "TWO_FACTOR_AUTH"))
    assert (enabled.status, enabled.json) == (200, success(None, "User 2FA enabled successfully."))
    assert user_item(stack, account.id)["is_2fa_enabled"] is True
    assert item(stack, f"USER#{account.id}", "OTP#TWO_FACTOR_AUTH") is None
    assert accounts.login(account.email).json == error(UNAUTHENTICATED, TWO_FA)


def test_disable_2fa(call_api, stack, accounts, monkeypatch):
    account = accounts.active()
    accounts.enable_2fa(account)
    shift_otp_clock(monkeypatch, 31)

    disabled = two_factor(call_api, "DELETE", account, accounts.send_otp(account.email, "TWO_FACTOR_AUTH"))

    assert (disabled.status, disabled.text) == (204, "")
    assert user_item(stack, account.id)["is_2fa_enabled"] is False
    assert accounts.login(account.email).status == 200


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_2fa_with_a_wrong_code_is_401_with_the_2fa_flag(call_api, stack, accounts, method):
    account = accounts.active()
    code = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")

    response = two_factor(call_api, method, account, f"{(int(code) + 1) % 10**6:06d}")

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    assert user_item(stack, account.id)["is_2fa_enabled"] is False


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_2fa_of_an_inactive_user_is_401_please_activate(call_api, stack, accounts, method):
    account = accounts.register()
    response = two_factor(call_api, method, account, "123456")

    assert (response.status, response.json) == (401, error(INACTIVE))
    assert user_item(stack, account.id)["is_2fa_enabled"] is False


@pytest.mark.parametrize(
    ("method", "credential"),
    [
        *((method, credential) for method in ("POST", "DELETE") for credential in ("other_user", "public", "api_key")),
        ("POST", "private"),  # support turns 2FA off (DELETE, test_second_factor_changes.py), never on
    ],
)
def test_2fa_with_a_credential_that_does_not_own_the_user_is_403(call_api, stack, accounts, method, credential):
    account = accounts.active()
    code = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")
    authorization = {
        "other_user": lambda: accounts.active().auth,
        "private": lambda: PRIVATE,
        "public": lambda: PUBLIC,
        "api_key": lambda: bearer(accounts.api_key_token(account)),
    }[credential]()

    response = two_factor(call_api, method, account, code, authorization=authorization)

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert user_item(stack, account.id)["is_2fa_enabled"] is False
    assert item(stack, f"USER#{account.id}", "OTP#TWO_FACTOR_AUTH") is not None


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_2fa_without_a_token_is_401(call_api, accounts, method):
    account = accounts.active()

    response = call_api(method, f"{API}/users/{account.id}/2fa", headers=headers(), body=body({"code": "123456"}))

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


@pytest.mark.parametrize("method", ["POST", "DELETE"])
@pytest.mark.parametrize(
    ("payload", "message"),
    [(None, EMPTY_BODY), (body({"code": "abcdef"}), INVALID), (body({"code": "123456", "x": 1}), INVALID)],
    ids=["none", "letters", "unknown-key"],
)
def test_2fa_with_a_bad_body_is_400(call_api, stack, accounts, method, payload, message):
    account = accounts.active()

    response = call_api(method, f"{API}/users/{account.id}/2fa", headers=headers(account.auth), body=payload)

    assert (response.status, response.json) == (400, error(message))
    assert user_item(stack, account.id)["is_2fa_enabled"] is False
