"""The rules behind the routes: passwords, token revocation and lifetime, one-time codes, lockout, rate limits,
the audit trail and the log (no secrets), and bad input that must be 400 and change nothing."""

import base64
import io
import json
import time

import jwt
import pytest

from harness.accounts import (
    API,
    EMPTY_BODY,
    INVALID,
    NOT_FOUND,
    PASSWORD,
    PRIVATE,
    PUBLIC,
    RATE_LIMITED,
    UNAUTHENTICATED,
    all_items,
    audit_events,
    basic,
    bearer,
    body,
    code_in,
    error,
    freeze_rate_clock,
    headers,
    item,
    latest_code,
    login_counter,
    sent_messages,
    sessions_of,
    set_attributes,
    shift_login_clock,
    shift_otp_clock,
    user_item,
)


def register(call_api, email, password, authorization=PUBLIC):
    payload = {"first_name": "Ada", "last_name": "Lovelace", "email": email, "password": password}
    return call_api("POST", f"{API}/auth/register", headers=headers(authorization), body=body(payload))


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def view(call_api, account, token=None):
    return call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": bearer(token or account.token)})


# ------------------------------------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    "password",
    ["a" * 8, "x" * 72, "é" * 36, "🔑" * 18, "pass:word with colons", "   spaces   "],
    ids=["8-chars", "72-bytes", "72-bytes-accented", "72-bytes-emoji", "colon", "spaces"],
)
def test_a_valid_password_registers_and_logs_in(call_api, accounts, password):
    response = register(call_api, "ada@example.com", password)

    assert response.status == 201, response.text
    assert accounts.login("ada@example.com", password).status == 200
    assert accounts.login("ada@example.com", password[:-1]).status == 401


@pytest.mark.parametrize(
    "password",
    ["a" * 7, "", "x" * 73, "é" * 37, "🔑" * 19, "x" * 71 + "é", "é" * 7],
    ids=["7-chars", "empty", "73-bytes", "74-bytes-accented", "76-bytes-emoji", "73-bytes-mixed", "7-accented"],
)
def test_a_password_too_short_or_over_72_bytes_is_400(call_api, stack, password):
    response = register(call_api, "ada@example.com", password)

    assert (response.status, response.json) == (400, error(INVALID))
    assert item(stack, "EMAIL#ada@example.com", "EMAIL") is None


def test_a_password_over_72_bytes_does_not_log_in_by_its_prefix(accounts):
    account = accounts.register(password="x" * 72)

    response = accounts.login(account.email, "x" * 72 + "y")

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


@pytest.mark.parametrize("password", ["a" * 7, "x" * 73, "é" * 37])
def test_change_password_refuses_the_same_passwords_as_register(call_api, stack, accounts, password):
    account = accounts.register()
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")

    response = call_api(
        "PATCH",
        f"{API}/users/{account.email}/password",
        headers=headers(PUBLIC),
        body=body({"password": password, "code": code}),
    )

    assert (response.status, response.json) == (400, error(INVALID))
    assert accounts.login(account.email).status == 200
    assert item(stack, f"USER#{account.id}", "OTP#CHANGE_PASSWORD") is not None


@pytest.mark.parametrize(
    "credentials",
    [b"\xff\xfe@example.com:password", b"ada@example.com:\xff\xfe", ("a" * 10_000 + "@example.com:pw").encode()],
    ids=["bad-utf8-email", "bad-utf8-password", "10kb-email"],
)
def test_odd_basic_credentials_are_401_not_500(call_api, accounts, credentials):
    accounts.register("ada@example.com")

    response = call_api(
        "POST", f"{API}/auth/session", headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()}
    )

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


# ------------------------------------------------------------------------------------------- revocation


def test_password_change_with_a_user_token_ends_every_other_session(call_api, stack, accounts):
    account = accounts.register()
    second, third = accounts.login_token(account), accounts.login_token(account)
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")

    response = accounts.change_password(account, code, authorization=account.auth)

    assert response.status == 200
    assert view(call_api, account).status == 200
    for token in (second, third):
        assert (view(call_api, account, token).status, view(call_api, account, token).json) == (
            401,
            error(UNAUTHENTICATED),
        )
    assert len(sessions_of(stack, account.id)) == 1


def test_password_change_with_the_public_key_ends_every_session(call_api, stack, accounts):
    account = accounts.register()
    second = accounts.login_token(account)
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")

    response = accounts.change_password(account, code)

    assert response.status == 200
    assert view(call_api, account).status == 401 and view(call_api, account, second).status == 401
    assert sessions_of(stack, account.id) == []


def test_logout_revokes_the_token_at_once(call_api, accounts):
    account = accounts.register()
    assert view(call_api, account).status == 200

    assert call_api("DELETE", f"{API}/auth/session", headers={"Authorization": account.auth}).status == 204

    assert (view(call_api, account).status, view(call_api, account).json) == (401, error(UNAUTHENTICATED))


def test_user_deletion_revokes_its_tokens(call_api, accounts):
    account = accounts.active()
    api_key_token = accounts.api_key_token(account)

    assert call_api("DELETE", f"{API}/users/{account.id}", headers={"Authorization": PRIVATE}).status == 204

    assert view(call_api, account).status == 401
    assert view(call_api, account, api_key_token).json == error(UNAUTHENTICATED)


# ------------------------------------------------------------------------------------------- session lifetime


def test_session_lifetime_comes_from_session_expiry_in_days(call_api, stack):
    before = time.time()
    response = call_api(
        "POST",
        f"{API}/auth/register",
        headers=headers(PUBLIC),
        body=body({"first_name": "a", "last_name": "b", "email": "ada@example.com", "password": PASSWORD}),
        env={"SESSION_EXPIRY_IN_DAYS": "2"},
    )

    data = response.json["data"]
    claims = jwt.decode(data["token"][len("calzo_user_") :], options={"verify_signature": False})
    assert claims["role"] == "user" and claims["sub"] == data["id"]
    assert claims["exp"] - claims["iat"] == pytest.approx(2 * 86400, abs=1)
    [session] = sessions_of(stack, data["id"])
    assert session["sk"] == f"SESSION#{claims['sid']}"
    assert before + 2 * 86400 - 2 <= int(session["expires_at"]) <= time.time() + 2 * 86400


def test_the_default_session_lifetime_is_7_days(accounts):
    account = accounts.register()

    claims = jwt.decode(account.token[len("calzo_user_") :], options={"verify_signature": False})

    assert claims["exp"] - claims["iat"] == pytest.approx(7 * 86400, abs=1)


def forged(claims, key=None):
    from clara.secrets import secret

    return "calzo_user_" + jwt.encode(claims, key or secret("jwt_secret_key"), algorithm="HS256")


def test_an_expired_token_is_401_even_with_its_session(call_api, accounts):
    account = accounts.register()
    claims = jwt.decode(account.token[len("calzo_user_") :], options={"verify_signature": False})
    now = time.time()

    expired = forged({**claims, "iat": now - 8 * 86400, "exp": now - 1})
    fresh = forged({**claims, "iat": now, "exp": now + 3600})

    assert view(call_api, account, expired).json == error(UNAUTHENTICATED)
    assert view(call_api, account, expired).status == 401
    assert view(call_api, account, fresh).status == 200  # the same forging with a live exp works: only exp differs


def test_a_token_accepted_before_is_401_once_it_expires(call_api, accounts, monkeypatch):
    """A warm function remembers the tokens it verified (clara.domain.accounts.tokens); the expiry is still read
    on every request."""
    import clara.domain.accounts.tokens

    account = accounts.register()
    claims = jwt.decode(account.token[len("calzo_user_") :], options={"verify_signature": False})
    now = time.time()
    short_lived = forged({**claims, "iat": now, "exp": now + 60})
    assert view(call_api, account, short_lived).status == 200
    assert view(call_api, account, short_lived).status == 200  # the second one from what the first verified

    monkeypatch.setattr(clara.domain.accounts.tokens.time, "time", lambda: now + 61)

    assert (view(call_api, account, short_lived).status, view(call_api, account).status) == (401, 200)


def test_an_expired_session_item_is_401_even_with_a_live_jwt(call_api, stack, accounts):
    account = accounts.register()
    [session] = sessions_of(stack, account.id)
    set_attributes(stack, session["pk"], session["sk"], expires_at=int(time.time()) - 1)

    response = view(call_api, account)

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


@pytest.mark.parametrize("change", ["wrong-key", "api-key-role", "no-sid", "unknown-sid", "alg-none"])
def test_a_tampered_token_is_401(call_api, accounts, change):
    account = accounts.register()
    claims = jwt.decode(account.token[len("calzo_user_") :], options={"verify_signature": False})
    token = {
        "wrong-key": lambda: forged(claims, key="not-the-secret-not-the-secret-123"),
        "api-key-role": lambda: forged({**claims, "role": "api_key"}),
        "no-sid": lambda: forged({k: v for k, v in claims.items() if k != "sid"}),
        "unknown-sid": lambda: forged({**claims, "sid": "session_00000000000000000000000000000000"}),
        "alg-none": lambda: "calzo_user_" + jwt.encode(claims, None, algorithm="none"),
    }[change]()

    response = view(call_api, account, token)

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


# ------------------------------------------------------------------------------------------- one-time codes


def activate(call_api, account, code):
    return call_api("POST", f"{API}/users/{account.email}/activate", headers=headers(PUBLIC), body=body({"code": code}))


def test_a_code_is_used_once(call_api, accounts):
    account = accounts.register()
    code = latest_code(account.email)

    assert activate(call_api, account, code).status == 200
    again = activate(call_api, account, code)

    assert (again.status, again.json) == (401, error(UNAUTHENTICATED))


def test_a_code_lives_10_minutes(call_api, stack, accounts, monkeypatch):
    account = accounts.register()
    code = latest_code(account.email)
    stored = item(stack, f"USER#{account.id}", "OTP#ACTIVATION")
    assert int(stored["expires_at"]) - float(stored["sent_at"]) == pytest.approx(600, abs=1)

    shift_otp_clock(monkeypatch, 601)
    late = activate(call_api, account, code)
    assert (late.status, late.json) == (401, error(UNAUTHENTICATED))
    assert user_item(stack, account.id)["is_active"] is False

    shift_otp_clock(monkeypatch, 590)
    assert activate(call_api, account, code).status == 200


def test_a_code_whose_stored_expiry_passed_is_401(call_api, stack, accounts):
    account = accounts.register()
    set_attributes(stack, f"USER#{account.id}", "OTP#ACTIVATION", expires_at=int(time.time()) - 1)

    response = activate(call_api, account, latest_code(account.email))

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


def test_a_code_dies_after_5_wrong_tries(call_api, stack, accounts):
    account = accounts.register()
    code = latest_code(account.email)

    for _ in range(5):
        assert activate(call_api, account, other_code(code)).status == 401
    assert item(stack, f"USER#{account.id}", "OTP#ACTIVATION")["attempts"] == 5
    right = activate(call_api, account, code)

    assert (right.status, right.json) == (401, error(UNAUTHENTICATED))
    assert user_item(stack, account.id)["is_active"] is False


def test_four_wrong_tries_leave_the_code_usable(call_api, accounts):
    account = accounts.register()
    code = latest_code(account.email)

    for _ in range(4):
        assert activate(call_api, account, other_code(code)).status == 401

    assert activate(call_api, account, code).status == 200


def test_a_resend_within_30_seconds_is_429_and_a_new_code_replaces_the_old(call_api, stack, accounts, monkeypatch):
    account = accounts.register()
    old = latest_code(account.email)
    sent = len(sent_messages(account.email))

    soon = call_api("POST", f"{API}/users/{account.email}/otp/ACTIVATION", headers={"Authorization": PUBLIC})
    assert (soon.status, soon.json) == (429, error(RATE_LIMITED))
    assert 1 <= int(soon.headers["Retry-After"]) <= 31
    assert len(sent_messages(account.email)) == sent

    shift_otp_clock(monkeypatch, 31)
    later = call_api("POST", f"{API}/users/{account.email}/otp/ACTIVATION", headers={"Authorization": PUBLIC})
    assert later.status == 201
    new = latest_code(account.email)
    if new != old:  # one chance in a million they are equal
        assert activate(call_api, account, old).status == 401
    assert activate(call_api, account, new).status == 200


def test_codes_of_one_type_do_not_work_for_another(call_api, accounts):
    account = accounts.register()
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")

    response = activate(call_api, account, code)

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


# ------------------------------------------------------------------------------------------- lockout


def test_five_wrong_passwords_lock_the_account_for_15_minutes(call_api, stack, accounts, monkeypatch):
    account = accounts.register()

    for _ in range(5):
        assert accounts.login(account.email, "wrong password").status == 401
    assert login_counter(stack, account.id)["attempts"] == 5

    locked = accounts.login(account.email)
    wrong = accounts.login(account.email, "wrong password")
    assert (locked.status, locked.text) == (wrong.status, wrong.text)
    assert locked.json == error(UNAUTHENTICATED)

    shift_login_clock(monkeypatch, 14 * 60)
    assert accounts.login(account.email).status == 401

    shift_login_clock(monkeypatch, 16 * 60)
    unlocked = accounts.login(account.email)
    assert unlocked.status == 200
    assert login_counter(stack, account.id) is None


def test_after_a_lockout_ends_one_wrong_password_does_not_lock_again(call_api, stack, accounts, monkeypatch):
    account = accounts.register()
    for _ in range(5):
        accounts.login(account.email, "wrong password")

    shift_login_clock(monkeypatch, 16 * 60)
    assert accounts.login(account.email, "wrong password").status == 401

    assert accounts.login(account.email).status == 200


def test_four_wrong_passwords_do_not_lock(call_api, stack, accounts):
    account = accounts.register()
    for _ in range(4):
        accounts.login(account.email, "wrong password")
    assert login_counter(stack, account.id)["attempts"] == 4

    assert accounts.login(account.email).status == 200
    assert login_counter(stack, account.id) is None


def test_a_password_change_unlocks_the_account(call_api, accounts):
    account = accounts.register()
    for _ in range(5):
        accounts.login(account.email, "wrong password")
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")

    changed = accounts.change_password(account, code)

    assert changed.status == 200
    assert accounts.login(account.email, "a brand new password").status == 200


def test_unknown_email_and_wrong_password_are_indistinguishable(accounts):
    account = accounts.register()

    wrong = accounts.login(account.email, "wrong password")
    unknown = accounts.login("nobody@example.com", "wrong password")

    assert (wrong.status, wrong.text) == (unknown.status, unknown.text) == (401, json.dumps(error(UNAUTHENTICATED)))
    assert wrong.headers == unknown.headers


# ------------------------------------------------------------------------------------------- rate limit

RATE_ENV = {"RATE_LIMIT_PER_SECOND": "3"}


def test_the_fourth_login_in_one_second_is_429(call_api, accounts, monkeypatch):
    account = accounts.register()
    freeze_rate_clock(monkeypatch, 1_900_000_000.25)

    answers = [
        call_api("POST", f"{API}/auth/session", headers=headers(basic(account.email, PASSWORD)), env=RATE_ENV)
        for _ in range(4)
    ]

    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert answers[3].json == error(RATE_LIMITED)
    assert answers[3].headers["Retry-After"] == "1"


def test_the_rate_limit_counts_each_user_on_its_own(call_api, accounts, monkeypatch):
    a, b = accounts.register(), accounts.register()
    freeze_rate_clock(monkeypatch, 1_900_000_000.5)

    a_answers = [
        call_api("GET", f"{API}/users/{a.id}", headers={"Authorization": a.auth}, env=RATE_ENV) for _ in range(4)
    ]
    b_answer = call_api("GET", f"{API}/users/{b.id}", headers={"Authorization": b.auth}, env=RATE_ENV)

    assert [r.status for r in a_answers] == [200, 200, 200, 429]
    assert a_answers[3].json == error(RATE_LIMITED) and a_answers[3].headers["Retry-After"] == "1"
    assert b_answer.status == 200


def test_the_public_key_is_limited_per_address(call_api, accounts, monkeypatch):
    account = accounts.register()
    freeze_rate_clock(monkeypatch, 1_900_000_001.0)

    answers = [
        call_api(
            "POST", f"{API}/users/{account.email}/otp/CHANGE_PASSWORD", headers={"Authorization": PUBLIC}, env=RATE_ENV
        )
        for _ in range(4)
    ]

    assert answers[3].status == 429 and answers[3].json == error(RATE_LIMITED)
    assert "Retry-After" in answers[3].headers


def test_the_private_key_is_not_limited(call_api, accounts, monkeypatch):
    account = accounts.register()
    freeze_rate_clock(monkeypatch, 1_900_000_002.0)

    answers = [
        call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": PRIVATE}, env=RATE_ENV) for _ in range(6)
    ]

    assert [a.status for a in answers] == [200] * 6


# ------------------------------------------------------------------------------------------- audit and logs


def full_flow(call_api, accounts, monkeypatch):
    """Every security event once; returns the secrets it handled (passwords, codes, tokens, keys)."""
    account = accounts.register()
    secrets = [account.password, account.token, PUBLIC, PRIVATE]
    secrets.append(accounts.activate(account) and latest_code(account.email))
    token = accounts.login_token(account)
    secrets.append(token)
    accounts.login(account.email, "wrong password 1")
    secrets.append("wrong password 1")
    for _ in range(4):
        accounts.login(account.email, "wrong password 1")
    accounts.login("nobody@example.com", "unknown user password")
    secrets.append("unknown user password")
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")
    secrets.append(code)
    response = accounts.change_password(account, code, "the new password")
    assert response.status == 200
    secrets.append("the new password")
    account.password = "the new password"
    account.token = accounts.login_token(account)
    secrets.append(account.token)
    accounts.enable_2fa(account)
    secrets.append(latest_code(account.email))
    shift_otp_clock(monkeypatch, 31)
    two_fa = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")
    secrets.append(two_fa)
    login = accounts.login(account.email, account.password, code=two_fa)
    assert login.status == 200
    secrets.append(login.json["data"]["token"])
    assert call_api("DELETE", f"{API}/auth/session", headers={"Authorization": account.auth}).status == 204
    secrets += [code_in(m) for m in sent_messages() if "code" in m.subject.lower() or "Welcome" in m.subject]
    # A token's signature is a secret on its own.
    secrets += [t.rsplit(".", 1)[1] for t in secrets if t.startswith("calzo_user_")]
    return account, secrets


def test_every_security_event_is_audited_without_secrets(call_api, stack, accounts, monkeypatch):
    account, secrets = full_flow(call_api, accounts, monkeypatch)

    events = audit_events(stack, account.id)
    for event in (
        "register",
        "login_succeeded",
        "login_failed",
        "lockout",
        "logout",
        "password_changed",
        "otp_sent",
        "otp_used",
        "activated",
        "2fa_enabled",
    ):
        assert event in events, event
    assert events.count("login_failed") == 5
    assert "login_failed" in audit_events(stack, None)  # the unknown email is audited too (no user)
    audits = [i for i in all_items(stack) if i.get("kind") == "audit"]
    stored = json.dumps(audits, default=str)
    for value in secrets:
        assert value not in stored
    assert all(i.get("source_ip") == "127.0.0.1" for i in audits)


def test_the_log_carries_no_password_code_or_token(call_api, stack, accounts, monkeypatch):
    from clara.observability import logger

    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    level = logger.log_level
    logger.setLevel("DEBUG")
    try:
        _, secrets = full_flow(call_api, accounts, monkeypatch)
    finally:
        logger.registered_handler.setStream(previous)
        logger.setLevel(level)

    logged = stream.getvalue()
    assert "Email sent" in logged  # the capture works
    for value in secrets:
        assert value not in logged


# ------------------------------------------------------------------------------------------- bad input

TEN_KB = "x" * 10_240


def snapshot(stack):
    """Everything stored except the rate counters and the audit trail."""
    items = [i for i in all_items(stack) if not i["pk"].startswith("RATE#") and i.get("kind") != "audit"]
    return sorted(items, key=lambda i: (i["pk"], i["sk"]))


def routes(account, code):
    """(method, path, authorization, a valid body) of every route that takes a body."""
    return {
        "register": (
            "POST",
            f"{API}/auth/register",
            PUBLIC,
            {"first_name": "A", "last_name": "B", "email": "n@e.co", "password": PASSWORD},
        ),
        "login": ("POST", f"{API}/auth/session", basic(account.email, PASSWORD), {"code": code}),
        "change-password": (
            "PATCH",
            f"{API}/users/{account.email}/password",
            PUBLIC,
            {"password": "another password", "code": code},
        ),
        "activate": ("POST", f"{API}/users/{account.email}/activate", PUBLIC, {"code": code}),
        "enable-2fa": ("POST", f"{API}/users/{account.id}/2fa", account.auth, {"code": code}),
        "disable-2fa": ("DELETE", f"{API}/users/{account.id}/2fa", account.auth, {"code": code}),
        "update": (
            "PATCH",
            f"{API}/users/{account.id}",
            account.auth,
            {"first_name": "A", "last_name": "B", "is_dark_mode": False},
        ),
        "credits": ("PUT", f"{API}/users/{account.id}/credits", PRIVATE, {"credits": 5}),
        "transaction": (
            "POST",
            f"{API}/users/{account.id}/transactions",
            PRIVATE,
            {"description": "d", "value_in_credits": 1, "value_in_fiat": 0, "type": "CREDIT"},
        ),
        "google": ("POST", f"{API}/auth/google", None, {"id_token": "x.y.z"}),
    }


ROUTES = [
    "register",
    "login",
    "change-password",
    "activate",
    "enable-2fa",
    "disable-2fa",
    "update",
    "credits",
    "transaction",
    "google",
]

WHOLE_BODIES = {
    "null": b"null",
    "array": b"[]",
    "array-of-object": b'[{"code": "123456"}]',
    "string": b'"123456"',
    "number": b"123456",
    "truncated": b'{"code": "12',
    "invalid-utf8": b'{"code": "\xff"}',
    "nested": b'{"code": {"$ne": ""}}',
}


@pytest.fixture
def target(accounts):
    account = accounts.active()
    return account, latest_code(account.email)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("payload", WHOLE_BODIES.values(), ids=WHOLE_BODIES.keys())
def test_a_body_that_is_not_the_object_is_400_and_changes_nothing(call_api, stack, target, route, payload):
    account, code = target
    method, path, authorization, _ = routes(account, code)[route]
    before = snapshot(stack)

    response = call_api(method, path, headers=headers(authorization), body=payload)

    assert (response.status, response.json) == (400, error(INVALID))
    assert snapshot(stack) == before


def field_cases(valid):
    """Each field wrong in each way, an unknown key, and each required field left out."""
    cases = {}
    for name in valid:
        for label, value in (("int", 12345678), ("list", [1]), ("object", {"a": 1}), ("10kb", TEN_KB), ("bool", True)):
            if (label == "bool" and name == "is_dark_mode") or (
                label == "int" and name in ("credits", "value_in_credits", "value_in_fiat")
            ):
                continue
            cases[f"{name}-{label}"] = {**valid, name: value}
        if name in ("credits", "value_in_credits", "value_in_fiat"):
            cases[f"{name}-numeric-string"] = {**valid, name: "5"}
        if name == "is_dark_mode":
            cases[f"{name}-string"] = {**valid, name: "false"}
            cases[f"{name}-int"] = {**valid, name: 0}
        if name not in ("code", "is_dark_mode", "first_name", "last_name", "value_in_fiat"):
            cases[f"{name}-missing"] = {k: v for k, v in valid.items() if k != name}
    cases["unknown-key"] = {**valid, "is_admin": True}
    return cases


def bad_field_params():
    dummy = type("A", (), {"email": "e@x.co", "id": "user_1", "auth": "Bearer t"})()
    for route in ROUTES:
        valid = routes(dummy, "123456")[route][3]
        for label, payload in field_cases(valid).items():
            if route == "login" and label == "code-missing":
                continue
            yield pytest.param(route, payload, id=f"{route}-{label}")


@pytest.mark.parametrize(("route", "payload"), list(bad_field_params()))
def test_a_bad_field_is_400_and_changes_nothing(call_api, stack, target, route, payload):
    account, code = target
    method, path, authorization, _ = routes(account, code)[route]
    payload = {k: (code if v == "123456" else v) for k, v in payload.items()}
    before = snapshot(stack)

    response = call_api(method, path, headers=headers(authorization), body=json.dumps(payload))

    assert (response.status, response.json) == (400, error(INVALID))
    assert snapshot(stack) == before


@pytest.mark.parametrize("route", [r for r in ROUTES if r != "login"])
@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/json", None),
        ("application/json", b""),
        ("text/plain", b'{"code": "123456"}'),
        ("application/x-www-form-urlencoded", b"code=123456"),
    ],
    ids=["none", "empty", "text-plain", "form"],
)
def test_no_json_body_is_400_empty_body(call_api, stack, target, route, content_type, payload):
    account, code = target
    method, path, authorization, _ = routes(account, code)[route]
    before = snapshot(stack)
    request_headers = {"Content-Type": content_type}
    if authorization:
        request_headers["Authorization"] = authorization

    response = call_api(method, path, headers=request_headers, body=payload)

    assert (response.status, response.json) == (400, error(EMPTY_BODY))
    assert snapshot(stack) == before


BAD_EMAILS = [
    "not-an-email",
    "%ff",
    "a%40",
    "@example.com",
    "a@b",
    "a b@example.com",
    "x" * 300 + "@example.com",
    "a@b@c.de",
]


@pytest.mark.parametrize("email", BAD_EMAILS)
@pytest.mark.parametrize("route", ["otp", "activate", "password"])
def test_a_bad_email_in_the_path_is_400(call_api, stack, target, email, route):
    _, code = target
    method, path, payload = {
        "otp": ("POST", f"{API}/users/{email}/otp/ACTIVATION", None),
        "activate": ("POST", f"{API}/users/{email}/activate", body({"code": code})),
        "password": ("PATCH", f"{API}/users/{email}/password", body({"password": "another password", "code": code})),
    }[route]
    before = snapshot(stack)

    response = call_api(method, path, headers=headers(PUBLIC), body=payload)

    assert (response.status, response.json) == (400, error(INVALID))
    assert snapshot(stack) == before


@pytest.mark.parametrize(
    "user_id", ["not-a-user", "user_" + "f" * 31, "x" * 10_240, "%ff", "USER%23x", "user_%00"], ids=str.__len__
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE", "PUT"])
def test_an_odd_user_id_with_the_private_key_is_404_not_500(call_api, stack, target, user_id, method):
    before = snapshot(stack)
    path = f"{API}/users/{user_id}" + ("/credits" if method == "PUT" else "")
    payload = {"GET": None, "DELETE": None, "PATCH": body({"first_name": "x"}), "PUT": body({"credits": 1})}[method]

    response = call_api(method, path, headers=headers(PRIVATE), body=payload)

    assert (response.status, response.json) == (404, error(NOT_FOUND))
    assert snapshot(stack) == before
