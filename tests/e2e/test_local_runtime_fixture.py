"""The local runtime against a small fixture stack: SQS batches, Function URLs, mail, failing functions."""

import time
from email import message_from_bytes, policy

import boto3
import pytest
import requests

pytestmark = pytest.mark.e2e


def _client(runtime, service):
    return boto3.client(
        service,
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _eventually(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_sqs_partial_batch_failure_keeps_good_messages_once_and_dead_letters_the_bad(fixture_runtime):
    sqs, table = (
        _client(fixture_runtime, "sqs"),
        boto3.resource(
            "dynamodb",
            endpoint_url=fixture_runtime.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).Table("FixtureTable"),
    )
    queue_url = sqs.get_queue_url(QueueName="FixtureQueue")["QueueUrl"]
    dead_letter_url = sqs.get_queue_url(QueueName="FixtureDeadLetterQueue")["QueueUrl"]

    sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(["good-1", "please fail", "good-2"])],
    )

    def dead_letters():
        return sqs.receive_message(QueueUrl=dead_letter_url, WaitTimeSeconds=1).get("Messages")

    dead = _eventually(dead_letters)
    assert dead and [message["Body"] for message in dead] == ["please fail"]
    for body in ("good-1", "good-2"):
        assert table.get_item(Key={"pk": body})["Item"]["handled"] == 1
    assert "please fail" not in [item["pk"] for item in table.scan()["Items"]]


def test_a_function_url_gets_the_v2_event(fixture_runtime):
    response = requests.post(
        f"{fixture_runtime.base_url}/_url/UrlEchoFunction/hooks/stripe?x=1",
        data=b'{"id": "evt_1"}',
        headers={"Content-Type": "application/json", "X-Fixture": "yes", "Cookie": "a=1"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.json() == {
        "method": "POST",
        "rawPath": "/hooks/stripe",
        "rawQueryString": "x=1",
        "body": '{"id": "evt_1"}',
        "isBase64Encoded": False,
        "header": "yes",
        "cookies": ["a=1"],
        "version": "2.0",
    }
    assert "/_url/UrlEchoFunction/" in fixture_runtime.log()


def test_a_binary_function_url_body_arrives_base64_and_is_decoded_by_the_function(fixture_runtime):
    response = requests.put(
        f"{fixture_runtime.base_url}/_url/UrlEchoFunction/",
        data=b"plain but untyped",
        headers={"Content-Type": "application/octet-stream"},
        timeout=10,
    )

    assert (response.json()["isBase64Encoded"], response.json()["body"]) == (True, "plain but untyped")


def test_an_api_function_gets_the_rest_event_and_its_resolved_environment(fixture_runtime):
    response = requests.post(
        f"{fixture_runtime.base_url}/api/v1/echo/a%20b/c?tag=1&tag=2",
        data=b"--x\r\n\r\n\xff\r\n--x--",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.headers["X-Function"] == "ApiEchoFunction"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    event, environment = response.json()["event"], response.json()["environment"]
    assert event["resource"] == "/api/v1/echo/{proxy+}"
    assert event["path"] == "/api/v1/echo/a%20b/c"
    assert event["pathParameters"] == {"proxy": "a b/c"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["1", "2"]}
    assert event["isBase64Encoded"] is True
    # The path as the client sent it: no stage in the local runtime's URLs (as on a custom domain at its root).
    assert event["requestContext"]["path"] == "/api/v1/echo/a%20b/c"
    assert event["requestContext"]["stage"] == "prod"
    assert environment == {
        "ENVIRONMENT": "development",
        "TABLE_NAME": "FixtureTable",
        "GREETING": "hello from us-east-1 FixtureTable",
        "SENDER": "no-reply@fixture.example.com",
    }


@pytest.mark.parametrize(
    ("url_path", "client_path"),
    [("/api/v1/items/i1", "/api/v1/items/i1"), ("/prod/api/v1/items/i1", "/prod/api/v1/items/i1")],
    ids=["no-stage", "stage-first-as-on-execute-api"],
)
def test_urls_take_the_stage_or_not_and_the_event_tells_which(fixture_runtime, url_path: str, client_path: str):
    response = requests.get(f"{fixture_runtime.base_url}{url_path}", timeout=10)

    assert response.status_code == 200
    event = response.json()["event"]
    assert event["path"] == "/api/v1/items/i1" and event["pathParameters"] == {"item_id": "i1"}
    assert event["requestContext"]["path"] == client_path
    assert event["requestContext"]["stage"] == "prod"


def test_a_get_has_no_body_and_null_query(fixture_runtime):
    event = requests.get(f"{fixture_runtime.base_url}/api/v1/items/i%3A1", timeout=10).json()["event"]

    assert (event["body"], event["queryStringParameters"], event["pathParameters"]) == (None, None, {"item_id": "i:1"})


def test_an_email_lands_in_the_mailbox_once_as_a_parseable_eml(fixture_runtime):
    response = requests.post(
        f"{fixture_runtime.base_url}/api/v1/mail",
        json={"to": "someone@example.com", "subject": "Welcome to Clara"},
        timeout=10,
    )
    assert response.status_code == 202

    files = _eventually(lambda: list(fixture_runtime.mailbox_dir.glob("*.eml")))
    time.sleep(1.5)  # a few more polls: the message must not be written twice
    files = list(fixture_runtime.mailbox_dir.glob("*.eml"))

    assert len(files) == 1
    email = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert email["Subject"] == "Welcome to Clara"
    assert email["From"] == "no-reply@fixture.example.com"
    assert email["To"] == "someone@example.com"
    assert email["Date"] and email["Message-ID"]
    assert "Hello in HTML." in email.get_body(preferencelist=("plain",)).get_content()
    assert "<b>HTML</b>" in email.get_body(preferencelist=("html",)).get_content()


@pytest.mark.parametrize("path", ["/api/v1/broken", "/api/v1/malformed"])
def test_a_raising_or_malformed_function_is_the_502_envelope(fixture_runtime, path):
    response = requests.get(f"{fixture_runtime.base_url}{path}", timeout=10)

    assert (response.status_code, response.json()) == (
        502,
        {"data": None, "message": "Something went wrong.", "status": "error"},
    )


def test_a_function_past_its_timeout_is_504_from_the_default_5xx_template(fixture_runtime):
    response = requests.get(f"{fixture_runtime.base_url}/api/v1/slow", timeout=10)

    assert (response.status_code, response.json()["message"]) == (504, "Something went wrong.")


def test_an_undeclared_response_type_inherits_default_4xx(fixture_runtime):
    response = requests.post(f"{fixture_runtime.base_url}/api/v1/mail", data=b"x" * (11 * 1024 * 1024), timeout=30)

    assert (response.status_code, response.json()) == (
        413,
        {"data": None, "message": "Request Too Long", "status": "error"},
    )
