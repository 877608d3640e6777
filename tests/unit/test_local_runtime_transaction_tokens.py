"""local_runtime/transaction_tokens.py: moto answers TransactWriteItems' ClientRequestToken as DynamoDB does, in
process and in the local runtime's emulator server."""

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_runtime import transaction_tokens
from local_runtime.emulator import EmulatorServer

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def make_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def add(amount: int, token: str | None = None) -> dict[str, Any]:
    """A transaction adding `amount` to item "a"'s counter, on condition that it stays at most 100."""
    update = {
        "TableName": "t",
        "Key": {"pk": {"S": "a"}},
        "UpdateExpression": "ADD n :amount",
        "ConditionExpression": "attribute_not_exists(n) OR n <= :most",
        "ExpressionAttributeValues": {":amount": {"N": str(amount)}, ":most": {"N": str(100 - amount)}},
    }
    return {"TransactItems": [{"Update": update}], **({"ClientRequestToken": token} if token else {})}


def counter(dynamodb: Any) -> int:
    item = dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}}, ConsistentRead=True).get("Item")
    return int(item["n"]["N"]) if item else 0


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    transaction_tokens.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION, **CREDENTIALS)
        make_table(client)
        yield client


def test_the_same_token_and_request_again_succeeds_without_applying_it_again(dynamodb: Any):
    dynamodb.transact_write_items(**add(5, "token-1"))
    dynamodb.transact_write_items(**add(5, "token-1"))  # a retry whose first answer was lost
    dynamodb.transact_write_items(**add(5, "token-2"))

    assert counter(dynamodb) == 10


def test_the_same_token_with_other_writes_is_an_idempotent_parameter_mismatch(dynamodb: Any):
    dynamodb.transact_write_items(**add(5, "token-1"))

    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(**add(7, "token-1"))

    error = refused.value.response
    assert error["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert isinstance(refused.value, dynamodb.exceptions.IdempotentParameterMismatchException)
    assert counter(dynamodb) == 5


def test_without_a_token_or_after_ten_minutes_a_request_applies_again(dynamodb: Any, monkeypatch):
    dynamodb.transact_write_items(**add(1))
    dynamodb.transact_write_items(**add(1))
    dynamodb.transact_write_items(**add(1, "token-1"))
    later = transaction_tokens.clock() + transaction_tokens.WINDOW_SECONDS + 1
    monkeypatch.setattr(transaction_tokens, "clock", lambda: later)

    dynamodb.transact_write_items(**add(2, "token-1"))  # a new request: no mismatch with the forgotten one

    assert counter(dynamodb) == 5


def test_a_refused_transaction_is_refused_again_with_its_token(dynamodb: Any):
    dynamodb.transact_write_items(**add(100))

    for _ in range(2):
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(**add(1, "token-1"))

    assert counter(dynamodb) == 100


def test_racing_retries_of_one_transaction_apply_it_once(dynamodb: Any):
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def send() -> None:
        start.wait()
        try:
            dynamodb.transact_write_items(**add(3, "token-raced"))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and counter(dynamodb) == 3


def test_the_emulator_server_honours_the_token(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = EmulatorServer("127.0.0.1", 0)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=f"http://{host}:{port}", **CREDENTIALS)
    make_table(client)
    try:
        client.transact_write_items(**add(4, "token-1"))
        client.transact_write_items(**add(4, "token-1"))
        with pytest.raises(client.exceptions.IdempotentParameterMismatchException):
            client.transact_write_items(**add(9, "token-1"))

        assert counter(client) == 4
    finally:
        client.delete_table(TableName="t")  # the server's state is the process's moto backends
        server.stop()
