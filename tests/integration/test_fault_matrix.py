"""A fault matrix over every route: for each operation of the API functions of template.yaml (the OpenAPI document
local_runtime builds from them) and each AWS call it makes (recorded on a clean run with botocore's before-call
hook), inject in turn throttling, a 500 from the service and a read timeout at that call (every attempt botocore
makes of it), then check what the user sees and what is stored:

* the answer is the classifier's for a busy AWS: the 503 envelope with Retry-After (an MCP tool: a tool error with
  its message), or the route's success, never a bare error or a 500;
* the user's balance is the sum of the ledger (credits less debits);
* a PENDING task has its message in the queue or is in the sweeper's open-task listing;
* every stored file belongs to an existing task.

The cases are generated from the recorded calls, not written by hand; `pytest -s` prints each route's calls and
cases. botocore's retry backoff is set to zero here: the real one (up to seconds per faulted call) would be most
of the run time and tests nothing the matrix checks.
"""

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.retries.standard import ExponentialBackoff
from moto.core.botocore_stubber import MockRawResponse

from clara.aws import aws_client
from harness import media
from harness.accounts import API, PRIVATE, PUBLIC, Account, basic, bearer, body, headers, item, latest_code
from harness.inprocess import TEMPLATE, ApiResponse
from local_runtime.openapi import build_document
from tests.integration import test_stripe
from tests.integration.test_analysis import Clara
from tests.integration.test_mcp import McpClient
from tests.unit.test_google_identity import CLIENT_ID, claims, jwks_server, sign, signing_key

pytestmark = pytest.mark.filterwarnings("ignore")
standin = test_stripe.standin
__all__ = ["jwks_server", "signing_key"]  # fixtures, used by name
SERVICES = ("dynamodb", "s3", "sqs", "ses", "secretsmanager")
Request = Callable[[], ApiResponse]
BUSY = "The service is busy. Please try again shortly."
ADMIN_OPERATIONS = frozenset({"GET /users", "DELETE /users/{user_id}"})
# A webhook endpoint's URL: loopback, which FETCH_ALLOW_LOOPBACK lets tests use; nothing listens there.
RECEIVER = "http://127.0.0.1:9/hook"
LOOPBACK = {"FETCH_ALLOW_LOOPBACK": "true"}


class Routes:
    """One valid request per operation, for a fresh active user with 100 credits: the setup runs before the
    recording (it may make calls of its own), the request it returns is the one faulted."""

    def __init__(self, clara: Clara, standin: Any, jwks_server: Any, signing_key: Any):
        self.clara = clara
        self.call_api = clara.call_api
        self.stripe_env = {"STRIPE_API_BASE": standin.base, "CLIENT_URL": test_stripe.CLIENT_URL}
        self.google_env = {"GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_JWKS_URL": jwks_server.url}
        self.signing_key = signing_key
        self.special: dict[str, Callable[[Account, str], Request]] = {
            "POST /auth/register": self.register,
            "POST /auth/google": self.google,
            "POST /auth/session": self.login,
            "DELETE /auth/session": self.logout,
            "PATCH /users/{user_email}/password": self.change_password,
            "POST /users/{user_email}/otp/{otp_type}": lambda _, url: self.request("POST", url, PUBLIC),
            "POST /users/{user_email}/activate": self.activate,
            "POST /users/{user_id}/2fa": self.enable_2fa,
            "DELETE /users/{user_id}/2fa": self.disable_2fa,
            "POST /users/{user_id}/2fa/totp/confirm": self.confirm_authenticator,
            "DELETE /users/{user_id}/2fa/totp": self.remove_authenticator,
            "POST /users/{user_id}/2fa/recovery-codes": self.new_recovery_codes,
            "GET /openapi.json": lambda _, url: self.request("GET", url, env={"API_DOCS": "enabled"}),
            "GET /docs": lambda _, url: self.request("GET", url, env={"API_DOCS": "enabled"}),
            "GET /docs/{asset}": lambda _, url: self.request(
                "GET", url.replace("{asset}", "swagger-ui.css"), env={"API_DOCS": "enabled"}
            ),
            "GET /stripe/rate": lambda a, url: self.request("GET", url, a.auth, env=self.stripe_env),
            "POST /stripe/portal": lambda a, url: self.request("POST", url, a.auth, env=self.stripe_env),
            "POST /stripe/buy": lambda a, url: self.request(
                "POST", url, a.auth, {"amount": 100, "return_path": ""}, self.stripe_env
            ),
            "PATCH /users/{user_id}": lambda a, url: self.request("PATCH", url, a.auth, {"is_dark_mode": True}),
            "PUT /users/{user_id}/credits": lambda _, url: self.request("PUT", url, PRIVATE, {"credits": 50}),
            "POST /users/{user_id}/agent/analysis": lambda a, _: (
                lambda: clara.analyse(a, files=[("photo.png", media.png())])
            ),
            "GET /users/{user_id}/tasks/{task_id}": self.task,
            "POST /users/{user_id}/tasks/{task_id}/cancel": self.cancel,
            "GET /users/{user_id}/transactions/{transaction_id}": self.transaction,
            "POST /users/{user_id}/transactions": lambda _, url: self.request(
                "POST", url, PRIVATE, {"description": "Goodwill", "value_in_credits": 5, "type": "CREDIT"}
            ),
            "POST /mcp": self.mcp,
            "POST /users/{user_id}/webhooks": lambda a, url: self.request(
                "POST", url, a.auth, {"url": RECEIVER}, LOOPBACK
            ),
            "GET /users/{user_id}/webhooks/{webhook_id}": self.webhook_route("GET"),
            "DELETE /users/{user_id}/webhooks/{webhook_id}": self.webhook_route("DELETE"),
            "POST /users/{user_id}/webhooks/{webhook_id}/secret": self.webhook_route("POST"),
            "POST /users/{user_id}/webhooks/{webhook_id}/test": self.webhook_route("POST"),
            "GET /users/{user_id}/webhooks/{webhook_id}/deliveries": self.webhook_route("GET"),
        }

    def setup(self, operation: str, account: Account) -> Request:
        method, path = operation.split(" ", 1)
        url = API + path.replace("{user_id}", account.id).replace("{user_email}", account.email)
        url = url.replace("{otp_type}", "TWO_FACTOR_AUTH")
        if operation in self.special:
            return self.special[operation](account, url)
        return self.request(method, url, PRIVATE if operation in ADMIN_OPERATIONS else account.auth)

    def request(
        self, method: str, url: str, auth: str | None = None, payload: Any = None, env: dict[str, str] | None = None
    ) -> Request:
        data = None if payload is None else body(payload)
        return lambda: self.call_api(method, url, headers=headers(auth), body=data, env=env)

    def send_code(self, email: str, otp_type: str) -> str:
        url = f"{API}/users/{email}/otp/{otp_type}"
        sent = self.call_api("POST", url, headers=headers(PUBLIC), env={"OTP_RESEND_SECONDS": "0"})
        assert sent.status == 201, sent.text
        return latest_code(email)

    def register(self, _: Account, url: str) -> Request:
        payload = {"first_name": "ada", "last_name": "lovelace", "password": "correct horse battery"}
        return lambda: self.call_api(
            "POST", url, headers=headers(PUBLIC), body=body({**payload, "email": f"{uuid.uuid4().hex}@example.com"})
        )

    def google(self, _: Account, url: str) -> Request:
        token = sign(claims(sub=str(uuid.uuid4().int)[:21], email=f"{uuid.uuid4().hex}@example.com"), self.signing_key)
        return self.request("POST", url, None, {"id_token": token}, self.google_env)

    def login(self, account: Account, url: str) -> Request:
        return self.request("POST", url, basic(account.email, account.password))

    def logout(self, account: Account, url: str) -> Request:
        return self.request("DELETE", url, bearer(self.clara.accounts.login_token(account)))

    def change_password(self, account: Account, url: str) -> Request:
        code = self.send_code(account.email, "CHANGE_PASSWORD")
        return self.request("PATCH", url, PUBLIC, {"password": "a brand new password", "code": code})

    def activate(self, account: Account, url: str) -> Request:
        inactive = self.clara.accounts.register(f"{uuid.uuid4().hex}@example.com")
        code = latest_code(inactive.email)
        return self.request("POST", url.replace(account.email, inactive.email), PUBLIC, {"code": code})

    def enable_2fa(self, account: Account, url: str) -> Request:
        return self.request("POST", url, account.auth, {"code": self.send_code(account.email, "TWO_FACTOR_AUTH")})

    def disable_2fa(self, account: Account, url: str) -> Request:
        assert self.enable_2fa(account, url)().status == 200
        return self.request("DELETE", url, account.auth, {"code": self.send_code(account.email, "TWO_FACTOR_AUTH")})

    def enrol_authenticator(self, account: Account) -> str:
        """The secret of a pending authenticator-app enrolment (codes from it are computed at the real time)."""
        enrolled = self.call_api("POST", f"{API}/users/{account.id}/2fa/totp", headers=headers(account.auth))
        assert enrolled.status == 201, enrolled.text
        return str(enrolled.json["data"]["secret"])

    def with_authenticator(self, account: Account) -> tuple[str, list[str]]:
        """2FA on by an authenticator app: its secret and recovery codes (the current step's code is used up)."""
        secret = self.enrol_authenticator(account)
        confirmed = self.call_api(
            "POST",
            f"{API}/users/{account.id}/2fa/totp/confirm",
            headers=headers(account.auth),
            body=body({"code": pyotp.TOTP(secret).now(), "password": account.password}),
        )
        assert confirmed.status == 200, confirmed.text
        return secret, list(confirmed.json["data"]["recovery_codes"])

    def confirm_authenticator(self, account: Account, url: str) -> Request:
        secret = self.enrol_authenticator(account)
        return self.request("POST", url, account.auth, {"code": pyotp.TOTP(secret).now(), "password": account.password})

    def remove_authenticator(self, account: Account, url: str) -> Request:
        _, recovery_codes = self.with_authenticator(account)
        return self.request("DELETE", url, account.auth, {"code": recovery_codes[0]})

    def new_recovery_codes(self, account: Account, url: str) -> Request:
        secret, _ = self.with_authenticator(account)
        # The next step's code: the confirmation used this step's, and one step of drift is accepted.
        return self.request("POST", url, account.auth, {"code": pyotp.TOTP(secret).at(time.time() + 30)})

    def task(self, account: Account, url: str) -> Request:
        return self.request("GET", url.replace("{task_id}", self.clara.submit(account)["id"]), account.auth)

    def cancel(self, account: Account, url: str) -> Request:
        return self.request("POST", url.replace("{task_id}", self.clara.submit(account)["id"]), account.auth)

    def webhook_route(self, method: str) -> Callable[[Account, str], Request]:
        """A route of one endpoint, created first (its URL is never dialled: no event is delivered here)."""

        def setup(account: Account, url: str) -> Request:
            made = self.call_api(
                "POST",
                f"{API}/users/{account.id}/webhooks",
                headers=headers(account.auth),
                body=body({"url": RECEIVER}),
                env=LOOPBACK,
            )
            assert made.status == 201, made.text
            return self.request(
                method, url.replace("{webhook_id}", made.json["data"]["id"]), account.auth, env=LOOPBACK
            )

        return setup

    def transaction(self, account: Account, url: str) -> Request:
        [transaction] = self.clara.transactions(account)
        return self.request("GET", url.replace("{transaction_id}", transaction["id"]), account.auth)

    def mcp(self, account: Account, _: str) -> Request:
        files = [{"name": "tower.png", "content_base64": base64.b64encode(media.png()).decode()}]
        arguments = {"text": "The Eiffel Tower is in Paris.", "files": files}
        client = McpClient(self.call_api, account.token)
        return lambda: client.request("tools/call", {"name": "agent_analysis", "arguments": arguments})


def operations() -> list[str]:
    """Every operation of the API functions of template.yaml, as `METHOD /path`."""
    document = build_document(TEMPLATE)
    return sorted(f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item)


OPERATIONS = operations()


def throttled(request: Any) -> AWSResponse:
    return _error(request, "ThrottlingException", 400)


def server_error(request: Any) -> AWSResponse:
    return _error(request, "InternalServerError", 500)


def read_timeout(request: Any) -> AWSResponse:
    raise ReadTimeoutError(endpoint_url=request.url)


FAULTS = {"throttled": throttled, "500": server_error, "timeout": read_timeout}


def _error(request: Any, code: str, status: int) -> AWSResponse:
    if "s3" in request.url or ("amazonaws.com/" in request.url and "x-amz-target" not in request.headers):
        body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
        return AWSResponse(request.url, status, {"content-type": "application/xml"}, MockRawResponse(body))
    body = json.dumps({"__type": code, "message": "injected"}).encode()
    headers = {"content-type": "application/x-amz-json-1.0", "x-amzn-query-error": f"{code};Sender"}
    return AWSResponse(request.url, status, headers, MockRawResponse(body))


class Calls:
    """Counts API calls (before-call, once per call) and fails every attempt of the `target`-th one."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.target: int | None = None
        self.fault: Callable[[Any], Any] | None = None
        self.clients = [aws_client(service) for service in SERVICES]

    def __enter__(self) -> "Calls":
        for client in self.clients:
            client.meta.events.register("before-call", self.call, unique_id="fault-matrix-call")
            client.meta.events.register_first("before-send", self.send, unique_id="fault-matrix-send")
        return self

    def __exit__(self, *_: Any) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call", unique_id="fault-matrix-call")
            client.meta.events.unregister("before-send", unique_id="fault-matrix-send")

    def call(self, model: Any, **_: Any) -> None:
        self.calls.append(f"{model.service_model.service_name}.{model.name}")

    def send(self, request: Any, **_: Any) -> Any:
        if self.fault is None or len(self.calls) - 1 != self.target:
            return None
        answer = self.fault(request)
        request.url = "http://fault-injected.invalid/"  # so moto, which sees every request too, does not apply it
        return answer


def admin_get(clara: Clara, path: str, **query: str) -> ApiResponse:
    response: ApiResponse = clara.call_api("GET", f"{API}{path}", headers={"Authorization": PRIVATE}, query=query)
    return response


def drain_queue(clara: Clara) -> set[str]:
    """The task ids of every message in the queue, which is left empty for the next case."""
    queued: set[str] = set()
    while messages := clara.sqs.receive_message(QueueUrl=clara.queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            queued.add(json.loads(message["Body"])["task_id"])
            clara.sqs.delete_message(QueueUrl=clara.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return queued


def check_answer(response: ApiResponse, case: str) -> None:
    """Every injected fault is AWS being busy: the answer is the 503 envelope with Retry-After, or the route's
    success (a best-effort call); an MCP tool answers it as a tool error with the same message."""
    if response.status == 503:
        assert response.json == {"data": None, "message": BUSY, "status": "error"}, case
        assert response.headers.get("Retry-After"), case
        return
    assert response.status < 300, f"{case}: {response.status} {response.text}"
    if response.text and "jsonrpc" in response.json:
        result = response.json["result"]
        assert not result["isError"] or result["content"][0]["text"] == BUSY, case


def check_invariants(clara: Clara, account: Account, response: ApiResponse, case: str) -> None:
    check_answer(response, case)
    queued = drain_queue(clara)
    user = admin_get(clara, f"/users/{account.id}")
    if user.status == 404:
        return  # the case deleted the user
    transactions = admin_get(clara, f"/users/{account.id}/transactions", limit="100").json["data"]
    ledger = sum(t["value_in_credits"] * (1 if t["type"] == "CREDIT" else -1) for t in transactions)
    assert user.json["data"]["credits"] == ledger, case
    tasks = {task["id"]: task for task in admin_get(clara, f"/users/{account.id}/tasks").json["data"]}
    for task_id, task in tasks.items():
        if task["status"] == "PENDING":
            stored = item(clara.stack, f"USER#{account.id}", f"TASK#{task_id}")
            assert task_id in queued or (stored and stored.get("gsi1pk")), f"{case}: {task_id} is lost"
    for key in clara.stored_keys():
        user_id, task_id = key.split("/")[:2]
        if user_id == account.id:
            assert task_id in tasks, f"{case}: {key} has no task"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_fault_at_every_call_of_the_route_leaves_a_consistent_answer_and_state(
    clara: Clara, standin: Any, jwks_server: Any, signing_key: Any, monkeypatch: pytest.MonkeyPatch, operation: str
):
    # No backoff between botocore's attempts: the real one would be most of the run time, and tests nothing here.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the stand-ins for Stripe and Google's signing keys
    aws_client.cache_clear()  # clients made now, so Calls hooks the ones the functions use
    routes = Routes(clara, standin, jwks_server, signing_key)
    started = time.monotonic()
    request = routes.setup(operation, clara.user())
    with Calls() as clean:
        response = request()
    assert response.status < 300, response.text
    cases = 0
    for index, call in enumerate(clean.calls):
        for fault_name, fault in FAULTS.items():
            account = clara.user()
            request = routes.setup(operation, account)
            with Calls() as injected:
                injected.target, injected.fault = index, fault
                response = request()
            check_invariants(clara, account, response, f"{operation} / {call} #{index} / {fault_name}")
            cases += 1
    elapsed = time.monotonic() - started
    print(f"\n{operation}: {len(clean.calls)} calls x {len(FAULTS)} faults = {cases} cases, {elapsed:.1f} s")
    print(f"    {clean.calls}")


def test_the_matrix_covers_the_api_and_nothing_else(clara: Clara, standin: Any, jwks_server: Any, signing_key: Any):
    assert len(OPERATIONS) > 25
    assert set(Routes(clara, standin, jwks_server, signing_key).special) <= set(OPERATIONS)
