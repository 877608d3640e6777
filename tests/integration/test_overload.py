"""AWS throttling and outages after the SDK's retries: a 503 envelope with Retry-After, never a bare 500 or a
gateway timeout, and nothing half-written. Every AWS client has bounded timeouts and the standard retry mode.

Faults are injected at botocore's `before-send` (where moto answers too), so botocore's own retry loop runs
around them, as it would around AWS's answer."""

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse

from clara.aws import aws_client, overloaded, unexpected_error
from clara.contract.errors import InsufficientCredits, ServiceBusy, SomethingWentWrong
from clara.settings import get_settings
from clara.store import table, unit
from harness import media
from harness.accounts import API
from tests.integration import test_analysis
from tests.integration.test_analysis import COST, Clara

BUSY = {"data": None, "message": "The service is busy. Please try again shortly.", "status": "error"}
JSON_ERRORS = {"dynamodb": "application/x-amz-json-1.0", "sqs": "application/x-amz-json-1.0"}


def aws_error(service: str, code: str, status: int) -> Callable[..., AWSResponse]:
    """A before-send handler answering as the service does when it refuses with `code`."""

    def answer(request: Any, **_: Any) -> AWSResponse:
        if service == "s3":
            body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
            headers = {"content-type": "application/xml"}
        else:
            body = json.dumps({"__type": code, "message": "injected"}).encode()
            headers = {
                "content-type": JSON_ERRORS.get(service, "application/x-amz-json-1.0"),
                "x-amzn-query-error": f"{code};Sender",
            }
        return AWSResponse(request.url, status, headers, MockRawResponse(body))

    return answer


class Injector:
    """Faults at chosen operations of the process's clients; counts the attempts botocore made."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self.hooks: list[tuple[Any, str, Any]] = []

    def fail(self, service: str, operation: str, fault: Callable[..., Any], times: int | None = None) -> None:
        client = table.client() if service == "dynamodb" else aws_client(service)
        event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"

        def hook(request: Any, **kwargs: Any) -> Any:
            self.attempts[operation] = self.attempts.get(operation, 0) + 1
            if times is not None and self.attempts[operation] > times:
                return None
            answer = fault(request, **kwargs)
            # Every before-send handler runs: moto's would still apply the request unless its URL stops matching.
            request.url = "http://fault-injected.invalid/"
            return answer

        client.meta.events.register_first(event, hook)
        self.hooks.append((client, event, hook))

    def clear(self) -> None:
        for client, event, hook in self.hooks:
            client.meta.events.unregister(event, hook)
        self.hooks.clear()


@pytest.fixture
def inject(stack) -> Iterator[Injector]:
    injector = Injector()
    yield injector
    injector.clear()


def timeout(request: Any, **_: Any) -> None:
    raise ReadTimeoutError(endpoint_url=request.url)


# ------------------------------------------------------------------------------------------- the clients


@pytest.mark.parametrize("service", ["dynamodb", "sqs", "s3", "ses", "secretsmanager", "transcribe"])
def test_every_client_has_bounded_timeouts_and_standard_retries(stack, monkeypatch, service):
    aws_client.cache_clear()
    try:
        config = aws_client(service).meta.config
        assert (config.connect_timeout, config.read_timeout) == (1, 3)
        assert config.retries == {"mode": "standard", "total_max_attempts": 3}

        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
        monkeypatch.setenv("AWS_READ_TIMEOUT_SECONDS", "4")
        get_settings.cache_clear()
        aws_client.cache_clear()
        config = aws_client(service).meta.config
        assert (config.read_timeout, config.retries["total_max_attempts"]) == (4, 5)
    finally:
        get_settings.cache_clear()
        aws_client.cache_clear()
        aws_client.cache_clear()


def test_secrets_are_read_through_the_configured_client_and_kept_five_minutes(stack, monkeypatch):
    from clara import secrets

    client = stack.session.client("secretsmanager")
    arn = client.create_secret(Name="k", SecretString="v")["ARN"]
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    monkeypatch.setenv("JWT_SECRET_KEY_SECRET_ID", arn)
    monkeypatch.setattr(secrets, "fetched", {})
    calls: list[str] = []
    aws_client("secretsmanager").meta.events.register("before-call", lambda model, **_: calls.append(model.name))

    assert secrets.secret("jwt_secret_key") == "v"
    client.put_secret_value(SecretId=arn, SecretString="rotated")
    assert secrets.secret("jwt_secret_key") == "v"  # within SECRET_MAX_AGE_SECONDS: no second call
    assert calls == ["GetSecretValue"]

    now = time.monotonic()
    monkeypatch.setattr(secrets.time, "monotonic", lambda: now + secrets.SECRET_MAX_AGE_SECONDS)
    assert secrets.secret("jwt_secret_key") == "rotated"
    assert calls == ["GetSecretValue", "GetSecretValue"]


def test_bedrock_keeps_its_own_longer_read_timeout(stack):
    from clara.integrations.analyzers.bedrock import _default_bedrock

    config = _default_bedrock(90, 3).meta.config
    assert config.read_timeout == 90 and config.retries["total_max_attempts"] == 1


# ------------------------------------------------------------------------------------------- what is overload


def client_error(code: str, status: int = 400, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}, **extra}, "Op")


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (client_error("ProvisionedThroughputExceededException"), True),
        (client_error("ThrottlingException"), True),
        (client_error("RequestLimitExceeded"), True),
        (client_error("TooManyRequestsException", 429), True),
        (client_error("SlowDown", 503), True),
        (client_error("ServiceUnavailable", 503), True),
        (client_error("InternalServerError", 500), True),
        (client_error("Whatever", 502), True),
        (client_error("TransactionCanceledException", CancellationReasons=[{"Code": "ThrottlingError"}]), True),
        (client_error("TransactionCanceledException", CancellationReasons=[{"Code": "ConditionalCheckFailed"}]), False),
        (client_error("AccessDeniedException"), False),
        (client_error("ValidationException"), False),
        (ReadTimeoutError(endpoint_url="https://dynamodb"), True),
        (ConnectionError("a Python error, not AWS"), False),
        (ValueError("a bug"), False),
    ],
)
def test_throttling_and_unavailable_are_overload_and_nothing_else(error, busy):
    assert overloaded(error) is busy
    assert isinstance(unexpected_error(error), ServiceBusy if busy else SomethingWentWrong)


def test_a_wrapped_overload_is_still_a_503_and_contract_errors_stay_themselves():
    try:
        try:
            raise client_error("ThrottlingException")
        except ClientError as error:
            raise SomethingWentWrong() from error
    except SomethingWentWrong as wrapped:
        assert isinstance(unexpected_error(wrapped), ServiceBusy)
    refused = InsufficientCredits()
    assert unexpected_error(refused) is refused


# ------------------------------------------------------------------------------------------- the API


def test_a_throttled_dynamodb_answers_503_with_retry_after_quickly(clara: Clara, inject: Injector):
    account = clara.user(credits=100)
    throttled = aws_error("dynamodb", "ProvisionedThroughputExceededException", 400)
    for operation in ("UpdateItem", "GetItem", "BatchGetItem", "Query", "TransactWriteItems"):
        inject.fail("dynamodb", operation, throttled)

    started = time.monotonic()
    response = clara.call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})
    elapsed = time.monotonic() - started

    assert (response.status, response.json) == (503, BUSY)
    assert response.headers["Retry-After"] == "2"
    assert sum(inject.attempts.values()) == 3  # the first call, tried three times by botocore
    assert elapsed < 5


def test_a_read_timeout_after_the_retries_is_a_503(clara: Clara, inject: Injector):
    account = clara.user(credits=100)
    inject.fail("dynamodb", "BatchGetItem", timeout)

    response = clara.call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})

    assert (response.status, response.json) == (503, BUSY)
    assert inject.attempts["BatchGetItem"] == 3


def test_an_aws_refusal_is_still_a_500(clara: Clara, inject: Injector):
    account = clara.user(credits=100)
    inject.fail("dynamodb", "BatchGetItem", aws_error("dynamodb", "AccessDeniedException", 400))

    response = clara.call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})

    assert response.status == 500 and response.json["message"] == "Something went wrong."
    assert inject.attempts["BatchGetItem"] == 1  # not retried: it would fail again


def test_a_throttled_transaction_charges_nothing_and_leaves_no_file(clara: Clara, inject: Injector):
    account = clara.user(credits=100)
    inject.fail("dynamodb", "TransactWriteItems", aws_error("dynamodb", "ThrottlingException", 400))

    response = clara.analyse(account, files=[("photo.png", media.png())])

    assert (response.status, response.json) == (503, BUSY)
    inject.clear()
    test_analysis.assert_nothing_charged_or_left(clara, account, 100)


def test_a_throttled_queue_refunds_the_task_and_answers_503(clara: Clara, inject: Injector):
    account = clara.user(credits=100)
    inject.fail("sqs", "SendMessage", aws_error("sqs", "AWS.SimpleQueueService.RequestThrottled", 403))

    response = clara.analyse(account, files=[("photo.png", media.png())])

    assert (response.status, response.json) == (503, BUSY)
    inject.clear()
    [task] = clara.tasks(account).json["data"]
    assert task["status"] == "FAILED"
    assert clara.balance(account) == 100
    assert sorted(t["type"] for t in clara.task_transactions(account)) == ["CREDIT", "DEBIT"]
    assert clara.stored_keys() == []


def test_a_transaction_applied_but_unanswered_creates_the_task_once(clara: Clara, monkeypatch):
    """DynamoDB applied the debit and the task, then the answer was lost: the request reads the task back and
    goes on, instead of deleting the files of a paid task."""
    account = clara.user(credits=100)
    applied = unit.commit
    lost: list[str] = []

    def applied_then_lost(*writes: Any, **arguments: Any) -> None:
        applied(*writes, **arguments)
        if any("Put" in write.request and "TASK#" in str(write.request["Put"]["Item"]["sk"]) for write in writes):
            lost.append("the task's transaction")
            raise ReadTimeoutError(endpoint_url="https://dynamodb")

    monkeypatch.setattr(unit, "commit", applied_then_lost)

    response = clara.analyse(account, files=[("photo.png", media.png())])

    monkeypatch.setattr(unit, "commit", applied)
    assert lost == ["the task's transaction"]  # the answer was lost indeed
    assert response.status == 201, response.text
    assert clara.balance(account) == 100 - COST
    assert [t["type"] for t in clara.task_transactions(account)] == ["DEBIT"]
    assert len(clara.stored_keys()) == 1 and clara.messages_in_queue() == 1
