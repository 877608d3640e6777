"""The authenticator app over HTTP against the local runtime (issue 15): enrol, confirm, log in with the app's
code and with a recovery code, each once, then back to emailed codes. Codes come from pyotp at the real clock;
the next step's code is accepted (one step either side), so no test waits for the clock."""

import time

import pyotp
import pytest

from harness.client import (
    FETCHED,
    LOGGED_IN,
    NO_ACCESS,
    TWO_FACTOR_ENABLED,
    TWO_FACTOR_REQUIRED,
    Api,
    Mailbox,
    active_account,
    bearer,
    expect,
    fetch,
    login,
    send_otp,
)

pytestmark = pytest.mark.e2e


def test_enrol_confirm_log_in_with_the_app_and_a_recovery_code_then_switch_back(api: Api, mailbox: Mailbox) -> None:
    account = active_account(api, mailbox, "totp")
    auth = bearer(account.token)

    enrolment = expect(api.call("POST", f"/users/{account.id}/2fa/totp", auth=auth), 201)
    app = pyotp.TOTP(enrolment["secret"])
    assert pyotp.parse_uri(enrolment["provisioning_uri"]).issuer == "Clara"
    assert enrolment["qr_svg"].startswith("<svg")
    now = time.time()
    confirm = api.call(
        "POST",
        f"/users/{account.id}/2fa/totp/confirm",
        auth=auth,
        json={"code": app.at(now), "password": account.password},
    )
    codes = expect(confirm, 200, TWO_FACTOR_ENABLED)["recovery_codes"]
    assert len(codes) == 10

    refused = login(api, account.email, account.password)
    assert (refused.status_code, refused.json()) == (401, TWO_FACTOR_REQUIRED)
    next_code = app.at(time.time() + 30)  # a later step than the confirming code's, within the window
    user = expect(login(api, account.email, account.password, next_code), 200, LOGGED_IN)
    assert (user["two_factor_method"], user["recovery_codes_left"]) == ("totp", 10)
    replayed = login(api, account.email, account.password, next_code)
    assert (replayed.status_code, replayed.json()) == (401, TWO_FACTOR_REQUIRED)

    user = expect(login(api, account.email, account.password, codes[0]), 200, LOGGED_IN)
    assert user["recovery_codes_left"] == 9
    again = login(api, account.email, account.password, codes[0])
    assert (again.status_code, again.json()) == (401, TWO_FACTOR_REQUIRED)

    switch = api.call("DELETE", f"/users/{account.id}/2fa/totp", auth=auth, json={"code": codes[1]})
    expect(switch, 204)
    viewed = expect(fetch(api, account), 200, FETCHED)
    assert (viewed["is_2fa_enabled"], viewed["two_factor_method"], viewed["recovery_codes_left"]) == (True, "email", 0)
    expect(send_otp(api, account.email, "TWO_FACTOR_AUTH"), 201)
    emailed = mailbox.next_code(account.email, "TWO_FACTOR_AUTH")
    expect(login(api, account.email, account.password, emailed), 200, LOGGED_IN)


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("POST", "/2fa/totp", None),
        ("POST", "/2fa/totp/confirm", {"code": "123456"}),
        ("DELETE", "/2fa/totp", {"code": "123456"}),
        ("POST", "/2fa/recovery-codes", {"code": "123456"}),
    ],
)
def test_the_app_routes_of_another_user_are_403(api: Api, mailbox: Mailbox, method: str, route: str, body) -> None:
    a = active_account(api, mailbox, "totp-a")
    b = active_account(api, mailbox, "totp-b")

    response = api.call(method, f"/users/{b.id}{route}", auth=bearer(a.token), json=body)

    assert (response.status_code, response.json()) == (403, {"data": None, "message": NO_ACCESS, "status": "error"})
