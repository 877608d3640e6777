"""HTTP helpers against the local runtime (harness/runtime.py): a client that checks the envelope of every
response, the runtime's mailbox (codes from the .eml files), and the few account and analysis steps every
end-to-end test (and the benchmark's throughput figure) repeats."""

import base64
import email
import email.policy
import re
import time
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests

# The contract's messages and user fields, as the in-process tests assert them (re-exported for the e2e tests).
from harness.accounts import EMPTY_BODY as EMPTY_BODY
from harness.accounts import INVALID, UNAUTHENTICATED, USER_FIELDS
from harness.accounts import NO_ACCESS as NO_ACCESS
from harness.accounts import RATE_LIMITED as RATE_LIMITED

PUBLIC_KEY = "e2e-public"
PRIVATE_KEY = "e2e-private"
RUNTIME_ENV = {
    "PUBLIC_API_KEY": PUBLIC_KEY,
    "PRIVATE_API_KEY": PRIVATE_KEY,
    "BCRYPT_ROUNDS": "4",
    "RATE_LIMIT_PER_SECOND": "1000",
}

# More of the contract's messages (docs/contract.md, Errors, and the routes); two under the names the e2e tests use.
AUTH_FAILED = UNAUTHENTICATED
INVALID_SCHEMA = INVALID
REGISTERED = "User registered successfully."
ACTIVATED = "User activated successfully."
LOGGED_IN = "User logged in successfully."
# The 401 of a login that needs a second factor: without a code, or with a wrong or used one.
TWO_FACTOR_REQUIRED = {"data": {"is_2fa_enabled": True}, "message": AUTH_FAILED, "status": "error"}
OTP_SENT = "OTP sent successfully."
TWO_FACTOR_ENABLED = "User 2FA enabled successfully."
PASSWORD_CHANGED = "User password changed successfully."
FETCHED = "User fetched successfully."
UPDATED = "User updated successfully."
METHOD_NOT_ALLOWED = "The requested method is not allowed for this route."
ROUTE_NOT_FOUND = "The requested route does not exist."

OTP_SUBJECTS = {
    "ACTIVATION": "Your Clara activation code",
    "TWO_FACTOR_AUTH": "Your Clara sign-in code",
    "CHANGE_PASSWORD": "Your Clara password change code",
}
WELCOME_SUBJECT = "Welcome to Clara"

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
# The text part shows the activation link's address, whose query holds the address and the code: a code is
# looked for outside addresses only (a test address's random hex may hold six digits in a row).
_ADDRESS = re.compile(r"https?://\S+")


def assert_envelope(response: requests.Response) -> None:
    """A 204 has no body at all; everything else is JSON with exactly data, message and status."""
    where = f"{response.request.method} {response.request.path_url[:200]} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: a server error: {response.text[:500]}"
    if response.status_code == 204:
        assert response.content == b"", f"{where}: a 204 with a body: {response.content[:200]!r}"
        return
    assert response.headers.get("Content-Type", "").startswith("application/json"), f"{where}: {response.headers}"
    try:
        body = response.json()
    except ValueError as error:
        raise AssertionError(f"{where}: not JSON: {response.text[:500]}") from error
    assert isinstance(body, dict), f"{where}: not an object: {body!r}"
    assert set(body) == {"data", "message", "status"}, f"{where}: not the envelope: {body!r}"
    assert isinstance(body["message"], str), f"{where}: {body!r}"
    assert body["message"], f"{where}: {body!r}"
    assert body["status"] == ("error" if response.status_code >= 400 else "success"), f"{where}: {body!r}"


def basic(email_address: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email_address}:{password}".encode()).decode()


def bearer(token: str) -> str:
    return f"Bearer {token}"


class Api:
    """requests against `<base>/api/v1`; every response goes through assert_envelope before the test sees it."""

    def __init__(self, base_url: str) -> None:
        self.root = f"{base_url}/api/v1"
        self.session = requests.Session()
        self.session.hooks["response"].append(self._check)
        self.checked = 0

    def _check(self, response: requests.Response, *_: Any, **__: Any) -> None:
        assert_envelope(response)
        self.checked += 1

    def call(
        self,
        method: str,
        path: str,
        *,
        auth: str | bytes | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        sent: dict[str, Any] = {}
        if auth is not None:
            sent["Authorization"] = auth
        if data is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        return self.session.request(
            method, self.root + path, json=json, data=data, headers=sent, params=params, timeout=30
        )


def expect(response: requests.Response, status: int, message: str | None = None, data: Any = ...) -> Any:
    """Asserts the status (and message, and data when given); returns the envelope's data."""
    body = response.json() if response.content else None
    assert response.status_code == status, f"{response.request.method} {response.request.path_url}: {body}"
    if message is not None:
        assert body is not None
        assert body["message"] == message, body
    if data is not ...:
        assert body is not None
        assert body["data"] == data, body
    return body["data"] if body else None


@dataclass
class Mailbox:
    """The runtime's mailbox folder: each test asks for the next email to one (unique) address."""

    folder: Path
    seen: set[Path] = field(default_factory=set)

    def next_email(self, to: str, subject: str, timeout: float = 10.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while True:
            for path in sorted(self.folder.glob("*.eml")) if self.folder.exists() else []:
                if path in self.seen:
                    continue
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                if str(message["To"]).lower() == to.lower() and message["Subject"] == subject:
                    self.seen.add(path)
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"no email {subject!r} to {to} within {timeout:g} s")
            time.sleep(0.1)

    def next_code(self, to: str, otp_type: str) -> str:
        return code_in(self.next_email(to, OTP_SUBJECTS[otp_type]))

    def all_bytes(self) -> list[bytes]:
        return [path.read_bytes() for path in sorted(self.folder.glob("*.eml"))]


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def code_in(message: EmailMessage) -> str:
    codes = set(_CODE.findall(_ADDRESS.sub(" ", text_of(message, "plain"))))
    assert len(codes) == 1, f"expected one 6-digit code, found {codes}"
    return codes.pop()


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.com"


@dataclass
class Account:
    email: str
    password: str
    id: str
    token: str  # the session of registration (or of the last login the test made)
    first_name: str = "Ada"
    last_name: str = "Lovelace"


def register(api: Api, label: str, password: str | None = None) -> Account:
    address = unique_email(label)
    password = password or f"Pw-{uuid.uuid4().hex}"
    body = {"first_name": "ada", "last_name": "lovelace", "email": address, "password": password}
    data = expect(api.call("POST", "/auth/register", auth=PUBLIC_KEY, json=body), 201, REGISTERED)
    assert set(data) == USER_FIELDS | {"token"}, data
    return Account(email=address, password=password, id=data["id"], token=data["token"])


def activate(api: Api, mailbox: Mailbox, account: Account) -> dict[str, Any]:
    code = code_in(mailbox.next_email(account.email, WELCOME_SUBJECT))
    path = f"/users/{account.email}/activate"
    return expect(api.call("POST", path, auth=PUBLIC_KEY, json={"code": code}), 200, ACTIVATED)


def active_account(api: Api, mailbox: Mailbox, label: str) -> Account:
    account = register(api, label)
    activate(api, mailbox, account)
    return account


def send_otp(api: Api, email_address: str, otp_type: str) -> requests.Response:
    return api.call("POST", f"/users/{email_address}/otp/{otp_type}", auth=PUBLIC_KEY)


def login(api: Api, email_address: str, password: str, code: str | None = None) -> requests.Response:
    return api.call("POST", "/auth/session", auth=basic(email_address, password), json={"code": code} if code else None)


def fetch(api: Api, account: Account, token: str | None = None) -> requests.Response:
    return api.call("GET", f"/users/{account.id}", auth=bearer(token or account.token))


# ------------------------------------------------------------------------------------------- analysis

COST = 20  # credits per analysis


def analyse(api: Api, account: Account, text: str | None, files: list[tuple[str, bytes]]) -> requests.Response:
    """POST the form as a browser would: `text`, and each file under a field named after the file."""
    return api.session.post(
        f"{api.root}/users/{account.id}/agent/analysis",
        headers={"Authorization": bearer(account.token)},
        data={"text": text} if text is not None else None,
        files=[(name, (name, content, "application/octet-stream")) for name, content in files] or None,
        timeout=60,
    )


def tasks(api: Api, account: Account) -> list[dict[str, Any]]:
    listed = api.call("GET", f"/users/{account.id}/tasks", auth=bearer(account.token), params={"limit": "100"})
    return expect(listed, 200)


def wait_for(api: Api, account: Account, task_id: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task = expect(api.call("GET", f"/users/{account.id}/tasks/{task_id}", auth=bearer(account.token)), 200)
        if task["status"] in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            return task
        time.sleep(0.1)
