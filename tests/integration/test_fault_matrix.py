"""A fault matrix: for each route below and each AWS call it makes (recorded on a clean run with botocore's
before-call hook), inject in turn throttling, a 500 from the service and a read timeout at that call (every
attempt botocore makes of it), then check what the user sees and what is stored:

* the answer is an envelope with a 4xx, 500 or 503 status (or the route's success), never a bare error;
* the user's balance is the sum of the ledger (credits less debits);
* a PENDING task has its message in the queue or is in the sweeper's open-task listing;
* every stored file belongs to an existing task.

The matrix is generated from the recorded calls, not written by hand; `pytest -s` prints its size."""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse

import clara.dynamo as dynamo
from clara.aws import aws_client
from tests.integration import test_analysis
from tests.integration.test_analysis import Clara
from tests.support import media
from tests.support.accounts import API, item

# The real backoff of botocore's standard retry mode runs between attempts: most of the matrix's time.
pytestmark = pytest.mark.filterwarnings("ignore")
clara = test_analysis.clara
SERVICES = ("dynamodb", "s3", "sqs")


def routes(clara: Clara, account: Any) -> dict[str, Callable[[], Any]]:
    """Each route under test, as one request of the user."""
    return {
        "POST /agent/analysis": lambda: clara.analyse(account, files=[("photo.png", media.png())]),
        "GET /users/{id}": lambda: clara.call_api(
            "GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth}
        ),
        "GET /users/{id}/tasks": lambda: clara.tasks(account),
    }


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
        self.clients = [dynamo.client(), aws_client("s3"), aws_client("sqs")]

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


def check_invariants(clara: Clara, account: Any, response: Any, case: str) -> None:
    assert response.status < 300 or response.status in (400, 401, 403, 404, 429, 500, 503), case
    assert set(response.json) == {"data", "message", "status"}, case
    if response.status == 503:
        assert response.headers.get("Retry-After"), case
    ledger = sum(t["value_in_credits"] * (1 if t["type"] == "CREDIT" else -1) for t in clara.transactions(account))
    assert clara.balance(account) == ledger, case
    queued = {
        json.loads(m["Body"])["task_id"]
        for m in clara.sqs.receive_message(QueueUrl=clara.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
    }
    tasks = {task["id"]: task for task in clara.tasks(account).json["data"]}
    for task_id, task in tasks.items():
        if task["status"] == "PENDING":
            stored = item(clara.stack, f"USER#{account.id}", f"TASK#{task_id}")
            assert task_id in queued or (stored and stored.get("gsi1pk")), case
    for key in clara.stored_keys():
        user_id, task_id = key.split("/")[:2]
        if user_id == account.id:
            assert task_id in tasks, f"{case}: {key} has no task"


def test_every_fault_at_every_call_of_each_route_leaves_a_consistent_answer_and_state(clara: Clara):
    started = time.monotonic()
    cases = 0
    recorded: dict[str, list[str]] = {}
    dynamo.client.cache_clear()
    for route in routes(clara, clara.user(credits=100)):
        account = clara.user(credits=100)
        with Calls() as calls:
            response = routes(clara, account)[route]()
        assert response.status < 300, (route, response.text)
        recorded[route] = [call for call in calls.calls if call.split(".")[0] in SERVICES]
        for index, call in enumerate(calls.calls):
            for fault_name, fault in FAULTS.items():
                account = clara.user(credits=100)
                request = routes(clara, account)[route]
                with Calls() as injected:
                    injected.target, injected.fault = index, fault
                    response = request()
                check_invariants(clara, account, response, f"{route} / {call} #{index} / {fault_name}")
                cases += 1
    elapsed = time.monotonic() - started
    print(f"\nFault matrix: {cases} cases in {elapsed:.1f} s over {json.dumps(recorded)}")
    assert cases >= 3 * sum(len(calls) for calls in recorded.values())
