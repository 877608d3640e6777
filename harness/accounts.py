"""Helpers for the account tests: credentials, envelopes, users made through the API, codes read from SES, and
the stored items read straight from the emulated table."""

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from clara.integrations.mail import SECURITY_CHANGES

PUBLIC = "test-public-key"
PRIVATE = "test-private-key"
PASSWORD = "correct horse battery"
API = "/api/v1"

UNAUTHENTICATED = "Authorization header or OTP is either missing, invalid or expired."
INACTIVE = "Please activate your account to access the requested resource."
NO_ACCESS = "You do not have access to the requested resource."
NOT_FOUND = "User with the given identifier does not exist."
ALREADY_EXISTS = "User with the given identifier already exists."
EMPTY_BODY = "Request body is empty."
INVALID = "One or more required parameters are either not given or have invalid schema."
RATE_LIMITED = "You have exceeded the rate limit."
NO_CREDITS = "You do not have enough credits to perform this action."

USER_FIELDS = {
    "id",
    "email",
    "first_name",
    "last_name",
    "credits",
    "is_active",
    "is_2fa_enabled",
    "is_dark_mode",
    "created_at",
    "updated_at",
    "two_factor_method",  # issue 15, additive
    "recovery_codes_left",
}
ADMIN_FIELDS = USER_FIELDS | {"stripe_customer_id", "google_user_id"}
HTTP_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


class _FieldErrorsOrNull:
    """The `data` of a 400 Empty Body or Invalid Schema: null, or `{"errors": [{"field": ..., "problem": ...}]}`
    naming what was wrong (the tests of those details say which fields; these only check the shape)."""

    def __eq__(self, data: object) -> bool:
        if data is None:
            return True
        if not isinstance(data, dict) or set(data) != {"errors"} or not isinstance(data["errors"], list):
            return False
        found = data["errors"]
        return bool(found) and all(
            isinstance(item, dict)
            and set(item) == {"field", "problem"}
            and all(isinstance(v, str) for v in item.values())
            for item in found
        )

    def __repr__(self) -> str:
        return "null or {'errors': [{'field': ..., 'problem': ...}]}"


FIELD_ERRORS_OR_NULL: Any = _FieldErrorsOrNull()


def error(message: str, data: Any = ...) -> dict[str, Any]:
    """The error envelope; a 400 Empty Body or Invalid Schema's data may name the fields that were wrong."""
    if data is ...:
        data = FIELD_ERRORS_OR_NULL if message in (EMPTY_BODY, INVALID) else None
    return {"data": data, "message": message, "status": "error"}


def success(data: Any, message: str) -> dict[str, Any]:
    return {"data": data, "message": message, "status": "success"}


def basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def bearer(token: str) -> str:
    return f"Bearer {token}"


def headers(authorization: str | None = None, **extra: str) -> dict[str, str]:
    found = {"Content-Type": "application/json", **extra}
    if authorization is not None:
        found["Authorization"] = authorization
    return found


def body(payload: Any) -> str:
    return json.dumps(payload)


# ------------------------------------------------------------------------------------------- email (SES in moto)


SECURITY_NOTICE_SUBJECTS = tuple(subject for subject, _ in SECURITY_CHANGES.values())


def sent_messages(to: str | None = None) -> list[Any]:
    messages = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [m for m in messages if to is None or to in m.destinations.get("ToAddresses", [])]


def code_in(message: Any) -> str:
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", message.body)
    assert found, f"no 6-digit code in {message.subject!r}"
    return found.group(1)


def latest_code(email: str) -> str:
    """The code of the latest email that carries one (security notices, which carry none, may follow it)."""
    messages = [m for m in sent_messages(email) if not m.subject.startswith(SECURITY_NOTICE_SUBJECTS)]
    assert messages, f"no email with a code sent to {email}"
    return code_in(messages[-1])


# ------------------------------------------------------------------------------------------- the table


def table(stack: Any) -> Any:
    return stack.session.resource("dynamodb").Table(stack.physical_ids["ClaraTable"])


def item(stack: Any, pk: str, sk: str) -> dict[str, Any] | None:
    return table(stack).get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")


def user_item(stack: Any, user_id: str) -> dict[str, Any] | None:
    return item(stack, f"USER#{user_id}", "USER")


def login_counter(stack: Any, user_id: str, address: str = "127.0.0.1") -> dict[str, Any] | None:
    """The failed-login counter of (user, client address) (clara.domain.accounts.lockout)."""
    return item(stack, f"USER#{user_id}", f"LOGIN#ADDRESS#{address}")


def items_of(stack: Any, user_id: str) -> list[dict[str, Any]]:
    return table(stack).query(KeyConditionExpression=Key("pk").eq(f"USER#{user_id}"))["Items"]


def all_items(stack: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {}
    while True:
        page = table(stack).scan(**arguments)
        found += page["Items"]
        if "LastEvaluatedKey" not in page:
            return found
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def sessions_of(stack: Any, user_id: str) -> list[dict[str, Any]]:
    return [i for i in items_of(stack, user_id) if i["sk"].startswith("SESSION#")]


def audit_events(stack: Any, user_id: str | None = None) -> list[str]:
    audits = [i for i in all_items(stack) if i.get("kind") == "audit"]
    return [i["event"] for i in audits if user_id is None or i.get("user_id") == user_id]


def set_attributes(stack: Any, pk: str, sk: str, **values: Any) -> None:
    names = {f"#{n}": n for n in values}
    table(stack).update_item(
        Key={"pk": pk, "sk": sk},
        UpdateExpression="SET " + ", ".join(f"#{n} = :{n}" for n in values),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={f":{n}": v for n, v in values.items()},
    )


# ------------------------------------------------------------------------------------------- users via the API


@dataclass
class Account:
    id: str
    email: str
    password: str
    token: str
    view: dict[str, Any]

    @property
    def auth(self) -> str:
        return bearer(self.token)


class Accounts:
    """Makes users through the API as a client would."""

    def __init__(self, call_api: Any, stack: Any = None):
        """`stack` is needed only to read stored items (api_key_token)."""
        self.call_api = call_api
        self.stack = stack
        self.count = 0

    def register(
        self, email: str | None = None, password: str = PASSWORD, first_name: str = "ada", last_name: str = "lovelace"
    ) -> Account:
        self.count += 1
        email = email or f"user{self.count}@example.com"
        response = self.call_api(
            "POST",
            f"{API}/auth/register",
            headers=headers(PUBLIC),
            body=body({"first_name": first_name, "last_name": last_name, "email": email, "password": password}),
        )
        assert response.status == 201, response.text
        data = response.json["data"]
        return Account(data["id"], data["email"], password, data["token"], data)

    def activate(self, account: Account) -> Account:
        response = self.call_api(
            "POST",
            f"{API}/users/{account.email}/activate",
            headers=headers(PUBLIC),
            body=body({"code": latest_code(account.email)}),
        )
        assert response.status == 200, response.text
        account.view = response.json["data"]
        return account

    def active(self, email: str | None = None, password: str = PASSWORD) -> Account:
        return self.activate(self.register(email, password))

    def send_otp(self, email: str, otp_type: str, authorization: str = PUBLIC) -> str:
        response = self.call_api(
            "POST", f"{API}/users/{email}/otp/{otp_type}", headers={"Authorization": authorization}
        )
        assert response.status == 201, response.text
        return latest_code(email)

    def change_password(
        self, account: Account, code: str, password: str = "a brand new password", authorization: str = PUBLIC
    ) -> Any:
        """PATCH the account's password with a CHANGE_PASSWORD code: the response, whatever its status."""
        return self.call_api(
            "PATCH",
            f"{API}/users/{account.email}/password",
            headers=headers(authorization),
            body=body({"password": password, "code": code}),
        )

    def login(self, email: str, password: str = PASSWORD, code: str | None = None, source_ip: str = "127.0.0.1") -> Any:
        return self.call_api(
            "POST",
            f"{API}/auth/session",
            headers=headers(basic(email, password)),
            body=body({"code": code}) if code else None,
            source_ip=source_ip,
        )

    def login_token(self, account: Account) -> str:
        response = self.login(account.email, account.password)
        assert response.status == 200, response.text
        return response.json["data"]["token"]

    def enable_2fa(self, account: Account) -> None:
        code = self.send_otp(account.email, "TWO_FACTOR_AUTH")
        response = self.call_api(
            "POST", f"{API}/users/{account.id}/2fa", headers=headers(account.auth), body=body({"code": code})
        )
        assert response.status == 200, response.text

    def api_key_token(self, account: Account) -> str:
        from clara.domain.accounts.tokens import issue_api_key_token

        key = item(self.stack, f"USER#{account.id}", "API_KEY")
        assert key is not None
        return issue_api_key_token(account.id, key["id"])


def signed_in_user(call_api: Any, email: str = "ada@example.com", password: str = "analytical-engine") -> Account:
    """An active user signed in through POST /auth/session: its token is that session's, not registration's."""
    accounts = Accounts(call_api)
    account = accounts.activate(accounts.register(email, password, "Ada", "Lovelace"))
    account.token = accounts.login_token(account)
    return account


# ------------------------------------------------------------------------------------------- clocks


def shift_otp_clock(monkeypatch: Any, seconds: float) -> None:
    """clara.domain.accounts.otp sees the time `seconds` later (the rest of the process keeps the real clock)."""
    import time
    from types import SimpleNamespace

    import clara.domain.accounts.otp

    monkeypatch.setattr(clara.domain.accounts.otp, "time", SimpleNamespace(time=lambda: time.time() + seconds))


def shift_login_clock(monkeypatch: Any, seconds: float) -> None:
    """clara.domain.accounts.sign_in (lockout windows) sees the time `seconds` later."""
    from datetime import timedelta

    import clara.domain.accounts.sign_in
    from clara.formats import utc_now

    monkeypatch.setattr(clara.domain.accounts.sign_in, "utc_now", lambda: utc_now() + timedelta(seconds=seconds))


def freeze_rate_clock(monkeypatch: Any, at: float) -> None:
    """Every request counted by clara.domain.ratelimit falls in the same second."""
    from types import SimpleNamespace

    import clara.domain.ratelimit

    monkeypatch.setattr(clara.domain.ratelimit, "time", SimpleNamespace(time=lambda: at))
