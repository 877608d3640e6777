"""Signed completion webhooks through the real handlers on moto: the endpoints' routes (WebhooksFunction), the
events a task's end records (worker, cancel, backstops), their delivery to a receiver on 127.0.0.1
(WebhookDeliveryFunction, on the webhook queue's real messages) and what a receiver checks: the Standard Webhooks
headers, verified with the `standardwebhooks` package, and one event id for every attempt."""

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

import clara.domain.webhooks.delivery as delivery
import clara.domain.webhooks.events as webhook_events
import clara.integrations.web.addresses as addresses
import clara.integrations.web.receivers as receivers
from clara.aws import aws_client
from clara.domain.webhooks import ports as webhooks_ports
from clara.formats import utc_now
from clara.settings import get_settings
from harness.accounts import API, PRIVATE, PUBLIC, Account, bearer, item, sent_messages
from harness.inprocess import FUNCTIONS, TEMPLATE, TEST_ENVIRONMENT
from local_runtime.environment import function_environment
from local_runtime.events import LambdaContext, scheduled_event, sqs_event
from tests.integration import test_analysis
from tests.integration.test_analysis import Clara, error

DELIVERY = "WebhookDeliveryFunction"
CREATED = "Webhook created successfully."
NO_ACCESS = "You do not have access to the requested resource."
NOT_FOUND = "Webhook with the given identifier does not exist."


# ------------------------------------------------------------------------------------------- a receiver


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers each with the next of `answers`
    (then 204)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.delay = 0.0  # seconds before answering
        self.answer_body = b""  # sent after the headers, without a Content-Length (read until the close)
        self.answer_taken: bool | None = None  # whether the sender took all of answer_body
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, headers = received.answers.pop(0) if received.answers else (204, {})
                time.sleep(received.delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if received.answer_body:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        self.wfile.write(received.answer_body)
                        self.wfile.flush()
                        received.answer_taken = True
                    except OSError:  # the sender hung up before taking it all
                        received.answer_taken = False
                    return
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/clara"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.server.shutdown()


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests reach the receiver on 127.0.0.1, as FETCH_ALLOW_LOOPBACK allows (never in production)."""
    monkeypatch.setenv("FETCH_ALLOW_LOOPBACK", "true")


# ------------------------------------------------------------------------------------------- helpers


def create(clara: Clara, account: Account, url: str, authorization: str | None = None, **fields: Any) -> Any:
    return clara.call_api(
        "POST",
        f"{API}/users/{account.id}/webhooks",
        headers={"Authorization": authorization or account.auth, "Content-Type": "application/json"},
        body=json.dumps({"url": url, **fields}),
    )


def created(clara: Clara, account: Account, url: str, **fields: Any) -> dict[str, Any]:
    response = create(clara, account, url, **fields)
    assert response.status == 201, response.text
    return response.json["data"]


def get(clara: Clara, account: Account, path: str, authorization: str | None = None, **query: str) -> Any:
    return clara.call_api(
        "GET",
        f"{API}/users/{account.id}/webhooks{path}",
        headers={"Authorization": authorization or account.auth},
        query=query or None,
    )


def post(clara: Clara, account: Account, path: str, authorization: str | None = None) -> Any:
    return clara.call_api(
        "POST", f"{API}/users/{account.id}/webhooks{path}", headers={"Authorization": authorization or account.auth}
    )


def webhook_queue(clara: Clara) -> str:
    return clara.stack.physical_ids["WebhookQueue"]


def receive_deliveries(clara: Clara) -> list[dict[str, Any]]:
    return clara.sqs.receive_message(QueueUrl=webhook_queue(clara), MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    )


def run_delivery(clara: Clara, messages: list[dict[str, Any]], receive_count: int | None = None) -> set[str]:
    """WebhookDeliveryFunction's handler on these messages (on their `receive_count`-th receive, when given): the
    ids it reports as batch item failures (to be retried)."""
    for name, value in function_environment(TEMPLATE, DELIVERY, clara.stack.physical_ids, TEST_ENVIRONMENT).items():
        clara.monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    if receive_count is not None:
        messages = [test_analysis.delivered(message, receive_count) for message in messages]
    arn = clara.sqs.get_queue_attributes(QueueUrl=webhook_queue(clara), AttributeNames=["QueueArn"])["Attributes"]
    outcome = FUNCTIONS.handler(DELIVERY)(sqs_event(messages, queue_arn=arn["QueueArn"]), LambdaContext(DELIVERY, 70))
    return {failure["itemIdentifier"] for failure in outcome["batchItemFailures"]}


def deliver_queued(clara: Clara) -> list[dict[str, Any]]:
    messages = receive_deliveries(clara)
    assert run_delivery(clara, messages) == set()
    return messages


def complete_a_task(clara: Clara, account: Account) -> dict[str, Any]:
    task = clara.submit(account)
    clara.run_worker(clara.receive())
    return clara.task(account, task["id"])


def verified(secret: str, headers: dict[str, str], body: bytes) -> Any:
    return Verifier(secret).verify(body, headers)


def sweep(clara: Clara, later_by: float) -> dict[str, Any]:
    sweeper = "AnalysisSweeperFunction"
    for name, value in function_environment(TEMPLATE, sweeper, clara.stack.physical_ids, TEST_ENVIRONMENT).items():
        clara.monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    later = utc_now() + timedelta(seconds=later_by)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook_events, "utc_now", lambda: later)
        return FUNCTIONS.handler(sweeper)(scheduled_event("every-minute"), LambdaContext(sweeper, 60))


# =========================================================================================== the endpoints


def test_an_endpoint_is_created_with_its_secret_shown_once(clara, receiver):
    account = clara.user()

    response = create(clara, account, receiver.url, description="Our task hook")

    assert (response.status, response.json["message"]) == (201, CREATED)
    made = response.json["data"]
    assert made["secret"].startswith("whsec_") and len(made["secret"]) >= len("whsec_") + 32
    assert (made["url"], made["events"], made["description"], made["enabled"]) == (
        receiver.url,
        ["task.completed", "task.failed", "webhook.test"],
        "Our task hook",
        True,
    )
    listed = get(clara, account, "")
    one = get(clara, account, f"/{made['id']}")
    assert listed.status == 200 and one.status == 200
    assert listed.json["data"] == [one.json["data"]]
    assert "secret" not in one.json["data"] and made["secret"] not in listed.text + one.text
    stored = item(clara.stack, f"USER#{account.id}", f"WEBHOOK#{made['id']}")
    assert made["secret"] not in json.dumps(stored)  # sealed at rest


def test_the_private_key_may_read_but_not_create_and_nobody_acts_on_another_users_endpoints(clara, receiver):
    owner, other = clara.user(), clara.user()
    made = created(clara, owner, receiver.url)

    assert get(clara, owner, "", authorization=PRIVATE).status == 200
    assert (create(clara, owner, receiver.url, authorization=PRIVATE).json, 403) == (error(NO_ACCESS), 403)
    assert create(clara, owner, receiver.url, authorization=PUBLIC).status == 403
    assert get(clara, owner, "", authorization=other.auth).status == 403  # another user's id: 403
    assert get(clara, other, f"/{made['id']}").json == error(NOT_FOUND)  # another user's endpoint: 404
    api_key = bearer(clara.accounts.api_key_token(owner))
    assert create(clara, owner, receiver.url, authorization=api_key).status == 201


def test_at_most_five_endpoints_even_when_created_at_once(clara, receiver, atomic_dynamodb):
    account = clara.user()
    answers: list[int] = []

    def one() -> None:
        answers.append(create(clara, account, receiver.url).status)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [201] * 5 + [400] * 3
    assert len(get(clara, account, "").json["data"]) == 5
    sixth = create(clara, account, receiver.url)
    assert (sixth.status, sixth.json["message"]) == (400, "A user may have at most 5 webhook endpoints.")
    first = get(clara, account, "").json["data"][0]["id"]
    assert (
        clara.call_api(
            "DELETE", f"{API}/users/{account.id}/webhooks/{first}", headers={"Authorization": account.auth}
        ).status
        == 204
    )
    assert create(clara, account, receiver.url).status == 201  # a delete frees its place


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "http://user:password@127.0.0.1/hook",
        "ftp://127.0.0.1/hook",
        "not a url",
    ],
)
def test_a_url_outside_the_address_policy_is_refused(clara, url):
    account = clara.user()

    response = create(clara, account, url)

    assert response.status == 400
    assert response.json["message"].startswith("The webhook URL is not allowed")
    assert get(clara, account, "").json["data"] == []


def test_loopback_is_refused_unless_allowed_and_production_takes_https_only(clara, receiver, monkeypatch):
    account = clara.user()
    monkeypatch.delenv("FETCH_ALLOW_LOOPBACK")
    refused = create(clara, account, receiver.url)
    assert refused.status == 400 and "non-public address" in refused.json["message"]

    response = clara.call_api(
        "POST",
        f"{API}/users/{account.id}/webhooks",
        headers={"Authorization": account.auth, "Content-Type": "application/json"},
        body=json.dumps({"url": "http://93.184.215.14/hook"}),
        env={"ENVIRONMENT": "production"},
    )
    assert (response.status, response.json["message"]) == (
        400,
        "The webhook URL is not allowed: Only https addresses are allowed.",
    )


# =========================================================================================== events


def test_a_completed_task_is_delivered_signed_with_its_view(clara, fake_analyzer, receiver):
    fake_analyzer()
    account = clara.user()
    made = created(clara, account, receiver.url)

    task = complete_a_task(clara, account)
    deliver_queued(clara)

    [(headers, body)] = receiver.requests
    event = verified(made["secret"], headers, body)
    assert event["type"] == "task.completed"
    assert event["data"] == task  # the TaskView the API returns
    assert headers["webhook-id"].startswith("msg_") and headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30
    with pytest.raises(WebhookVerificationError):
        verified("whsec_" + "A" * 32, headers, body)  # another secret does not verify it
    assert not [
        i
        for i in clara.stack.session.client("dynamodb").scan(TableName=get_settings().table_name)["Items"]
        if i["sk"]["S"].startswith("WEBHOOK_EVENT#")
    ]


def test_a_cancelled_task_sends_task_failed_with_its_refund(clara, receiver):
    account = clara.user()
    made = created(clara, account, receiver.url, events=["task.failed"])
    task = clara.submit(account)

    cancelled = clara.call_api(
        "POST", f"{API}/users/{account.id}/tasks/{task['id']}/cancel", headers={"Authorization": account.auth}
    )
    assert cancelled.status == 200
    deliver_queued(clara)

    [event] = [verified(made["secret"], headers, body) for headers, body in receiver.requests]
    assert event["type"] == "task.failed"
    refund = event["data"].pop("refund")
    assert event["data"] == cancelled.json["data"]
    credit = [t for t in clara.task_transactions(account) if t["type"] == "CREDIT"]
    assert [(t["id"], t["value_in_credits"]) for t in credit] == [
        (refund["transaction_id"], refund["value_in_credits"])
    ]


def test_an_endpoint_gets_only_the_types_it_asked_for(clara, fake_analyzer, receiver):
    fake_analyzer()
    account = clara.user()
    created(clara, account, receiver.url, events=["task.failed"])

    complete_a_task(clara, account)

    assert receive_deliveries(clara) == []  # nobody wants task.completed: nothing queued
    assert receiver.requests == []


def a_queued_delivery(
    clara: Clara, fake_analyzer: Any, receiver: Receiver, answers: list[tuple[int, dict[str, str]]] | None = None
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A user with an endpoint at the receiver (answering `answers` when given), a task completed, and the message
    of the delivery it queued: (account, endpoint, message)."""
    fake_analyzer()
    account = clara.user()
    made = created(clara, account, receiver.url)
    if answers is not None:
        receiver.answers = answers
    complete_a_task(clara, account)
    [message] = receive_deliveries(clara)
    return account, made, message


def test_a_failed_attempt_is_retried_under_the_same_event_id_and_logged(clara, fake_analyzer, receiver):
    account, made, message = a_queued_delivery(
        clara, fake_analyzer, receiver, answers=[(500, {}), (302, {"Location": receiver.url + "/elsewhere"})]
    )

    assert run_delivery(clara, [message], receive_count=1) == {message["MessageId"]}  # 500: retried
    assert run_delivery(clara, [message], receive_count=2) == {message["MessageId"]}  # a redirect is not followed
    assert run_delivery(clara, [message], receive_count=3) == set()  # 204: delivered

    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1
    assert [r[0].get("host") for r in receiver.requests] == [receiver.url.split("/")[2]] * 3  # nothing followed
    log = get(clara, account, f"/{made['id']}/deliveries")
    assert log.status == 200
    assert [(d["attempt"], d["outcome"], d["status_code"]) for d in log.json["data"]] == [
        (3, "delivered", 204),
        (2, "retrying", 302),
        (1, "retrying", 500),
    ]
    assert log.json["data"][1]["next_attempt_at"] is not None and log.json["data"][0]["next_attempt_at"] is None
    assert {d["event_id"] for d in log.json["data"]} == ids


def test_after_the_last_attempt_the_event_is_logged_failed_and_let_go(clara, fake_analyzer, receiver):
    account, made, message = a_queued_delivery(clara, fake_analyzer, receiver, answers=[(503, {})])

    assert run_delivery(clara, [message], receive_count=delivery.MAX_ATTEMPTS) == set()

    [logged] = get(clara, account, f"/{made['id']}/deliveries").json["data"]
    assert (logged["attempt"], logged["outcome"], logged["status_code"]) == (8, "failed", 503)
    assert sum(delivery.RETRY_SCHEDULE_SECONDS) == 99_305  # the give-up bound: 27.6 hours after the first attempt


def test_an_endpoint_failing_for_five_days_is_disabled_and_its_owner_emailed(clara, fake_analyzer, receiver):
    account, made, message = a_queued_delivery(clara, fake_analyzer, receiver, answers=[(500, {})])
    table = clara.stack.session.client("dynamodb")
    table.update_item(
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"USER#{account.id}"}, "sk": {"S": f"WEBHOOK#{made['id']}"}},
        UpdateExpression="SET failing_since = :since",
        ExpressionAttributeValues={":since": {"N": str(int(time.time()) - 5 * 86_400 - 1)}},
    )

    assert run_delivery(clara, [message], receive_count=2) == set()  # not retried: the endpoint is disabled

    assert get(clara, account, f"/{made['id']}").json["data"]["enabled"] is False
    [email] = [m for m in sent_messages(account.email) if "webhook endpoint was disabled" in m.subject]
    assert receiver.url in email.body
    complete_a_task(clara, account)  # a disabled endpoint is not sent events
    assert receive_deliveries(clara) == []


def test_the_address_is_checked_again_at_delivery(clara, fake_analyzer, receiver, monkeypatch):
    fake_analyzer()
    account = clara.user()
    port = receiver.url.split(":")[2].split("/")[0]
    answers = {"hooks.example": ["127.0.0.1"]}
    monkeypatch.setattr(addresses, "resolve_host", lambda host, port: answers[host])
    made = created(clara, account, f"http://hooks.example:{port}/hook")
    answers["hooks.example"] = ["10.1.2.3"]  # the name now points inside (DNS rebinding)
    complete_a_task(clara, account)
    [message] = receive_deliveries(clara)

    assert run_delivery(clara, [message], receive_count=1) == {message["MessageId"]}

    assert receiver.requests == []
    [logged] = get(clara, account, f"/{made['id']}/deliveries").json["data"]
    assert logged["status_code"] is None and "non-public address" in logged["error"]


def test_an_event_the_writer_could_not_queue_is_queued_by_the_sweeper_once(clara, fake_analyzer, receiver, monkeypatch):
    fake_analyzer()
    account = clara.user()
    made = created(clara, account, receiver.url)

    class Crash(BaseException):
        """The worker dies right after the task's transaction (no except clause sees it)."""

    class DyingQueue:
        def send_batch(self, bodies: list[str]) -> None:
            raise Crash()

    with monkeypatch.context() as patch:
        patch.setattr(webhooks_ports.event_queue, "substitute", DyingQueue)
        task = clara.submit(account)
        with pytest.raises(Crash):
            clara.run_worker(clara.receive())
    assert clara.task(account, task["id"])["status"] == "COMPLETED"
    assert receive_deliveries(clara) == []

    assert sweep(clara, later_by=0)["webhook_events_queued"] == []  # a minute is the writer's own
    assert len(sweep(clara, later_by=61)["webhook_events_queued"]) == 1
    assert sweep(clara, later_by=122)["webhook_events_queued"] == []
    deliver_queued(clara)
    [event] = [verified(made["secret"], headers, body) for headers, body in receiver.requests]
    assert (event["type"], event["data"]["id"]) == ("task.completed", task["id"])


def test_a_slow_receiver_costs_at_most_the_timeout_and_a_huge_answer_is_not_read(
    clara, fake_analyzer, receiver, monkeypatch
):
    account, made, message = a_queued_delivery(clara, fake_analyzer, receiver)
    monkeypatch.setattr(receivers, "DELIVERY_TIMEOUT_SECONDS", 0.5)  # 10 s in the stack: the same code path
    receiver.delay = 2.0

    started = time.monotonic()
    assert run_delivery(clara, [message], receive_count=1) == {message["MessageId"]}
    assert time.monotonic() - started < 1.5

    receiver.delay, receiver.answer_body = 0.0, b"x" * 20_000_000  # 20 MB of answer to a 200
    receiver.answers = [(200, {})]
    assert run_delivery(clara, [message], receive_count=2) == set()  # delivered: the status is what counts
    log = get(clara, account, f"/{made['id']}/deliveries").json["data"]
    assert [(d["attempt"], d["outcome"], d["status_code"]) for d in log] == [
        (2, "delivered", 200),
        (1, "retrying", None),
    ]
    assert log[1]["error"] == "The site did not answer within 0.5 s."
    time.sleep(0.2)
    assert receiver.answer_taken is False  # Clara hung up after 64 KB instead of taking 20 MB


# =========================================================================================== secret, test, delete


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(clara, receiver, monkeypatch):
    account = clara.user()
    made = created(clara, account, receiver.url)

    rotated = post(clara, account, f"/{made['id']}/secret")
    assert (rotated.status, rotated.json["message"]) == (201, "Webhook secret rotated successfully.")
    new = rotated.json["data"]["secret"]
    assert new.startswith("whsec_") and new != made["secret"]
    assert post(clara, account, f"/{made['id']}/test").status == 202
    deliver_queued(clara)
    [(headers, body)] = receiver.requests
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verified(new, headers, body)["type"] == "webhook.test"
    assert verified(made["secret"], headers, body)["data"]["webhook_id"] == made["id"]

    a_day_later = time.time() + 86_401
    monkeypatch.setattr(delivery.time, "time", lambda: a_day_later)
    assert post(clara, account, f"/{made['id']}/test").status == 202
    deliver_queued(clara)
    later_headers, _ = receiver.requests[1]
    assert len(later_headers["webhook-signature"].split(" ")) == 1


def test_a_deleted_endpoint_gets_nothing_more(clara, fake_analyzer, receiver):
    fake_analyzer()
    account = clara.user()
    made = created(clara, account, receiver.url)
    complete_a_task(clara, account)
    messages = receive_deliveries(clara)

    deleted = clara.call_api(
        "DELETE", f"{API}/users/{account.id}/webhooks/{made['id']}", headers={"Authorization": account.auth}
    )
    assert (deleted.status, deleted.text) == (204, "")
    assert run_delivery(clara, messages) == set()

    assert receiver.requests == []
    assert get(clara, account, f"/{made['id']}").status == 404
    again = clara.call_api(
        "DELETE", f"{API}/users/{account.id}/webhooks/{made['id']}", headers={"Authorization": account.auth}
    )
    assert again.json == error(NOT_FOUND)


# =========================================================================================== what an event costs


class AwsCalls:
    """The DynamoDB and SQS calls of the functions' clients, by name."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.names.append(f"{model.service_model.service_name}.{model.name}")

    def take(self) -> list[str]:
        taken, self.names = self.names, []
        return taken


@pytest.fixture
def aws_calls(stack: Any) -> Iterator[AwsCalls]:
    aws_client.cache_clear()  # clients of this moto instance, made now, so the hook is on the ones used
    calls = AwsCalls()
    clients = [aws_client("dynamodb"), aws_client("sqs")]
    for client in clients:
        client.meta.events.register("before-call", calls, unique_id="webhook-costs")
    yield calls
    for client in clients:
        client.meta.events.unregister("before-call", unique_id="webhook-costs")
    aws_client.cache_clear()


def test_the_calls_an_event_costs(clara, fake_analyzer, receiver, aws_calls):
    """Printed with -s; the closing note of issue 24 quotes them."""
    fake_analyzer()
    without = clara.user()
    task = clara.submit(without)
    aws_calls.take()
    clara.run_worker(clara.receive())
    no_endpoint = aws_calls.take()
    account = clara.user()
    created(clara, account, receiver.url)
    clara.submit(account)
    aws_calls.take()
    clara.run_worker(clara.receive())
    recorded = aws_calls.take()
    receiver.answers = [(500, {})]
    [message] = receive_deliveries(clara)
    aws_calls.take()
    run_delivery(clara, [message], receive_count=1)
    failed = aws_calls.take()
    run_delivery(clara, [message], receive_count=2)
    delivered = aws_calls.take()

    print(f"\nend of a task, no endpoint: {no_endpoint}\nwith one: {recorded}\na failed attempt: {failed}")
    print(f"the delivery after it: {delivered}")
    assert clara.task(without, task["id"])["status"] == "COMPLETED"
    # With no endpoint, a task's end pays one Query and writes nothing more.
    assert no_endpoint.count("dynamodb.Query") == 1 and "sqs.SendMessageBatch" not in no_endpoint
    # With one: the Query, the event in the task's transaction, one SendMessageBatch, one DeleteItem.
    extra = [name for name in recorded if name not in no_endpoint]
    assert sorted(extra) == ["dynamodb.DeleteItem", "sqs.SendMessageBatch"]
    assert len(recorded) == len(no_endpoint) + 2
    # An attempt: the endpoint read, the log written; a first failure marks the endpoint (one UpdateItem) and
    # hides the message until its retry; the success after it clears the mark.
    assert sorted(failed) == sorted(
        ["dynamodb.GetItem", "dynamodb.UpdateItem", "dynamodb.PutItem", "sqs.ChangeMessageVisibility"]
    )
    assert sorted(delivered) == sorted(["dynamodb.GetItem", "dynamodb.UpdateItem", "dynamodb.PutItem"])
