"""The events the local runtime builds have the shape AWS sends."""

import base64

import pytest

from local_runtime.events import LambdaContext, api_gateway_event, function_url_event, sqs_event


def test_a_rest_event_without_query_parameters_or_body_has_nulls():
    event = api_gateway_event("get", "/api/v1/health", resource="/api/v1/health", headers={"Host": "localhost:3000"})

    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert event["headers"] == {"Host": "localhost:3000"}
    assert event["multiValueHeaders"] == {"Host": ["localhost:3000"]}


def test_a_rest_event_carries_the_request_context_api_gateway_gives():
    event = api_gateway_event(
        "POST",
        "/api/v1/users/u%201",
        resource="/api/v1/users/{user_id}",
        path_parameters={"user_id": "u 1"},
        headers=[("User-Agent", "pytest"), ("Content-Type", "application/json")],
        body='{"a": 1}',
        source_ip="10.0.0.1",
    )

    context = event["requestContext"]
    assert event["path"] == "/api/v1/users/u%201"
    assert event["pathParameters"] == {"user_id": "u 1"}
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False
    assert context["resourcePath"] == "/api/v1/users/{user_id}"
    assert context["path"] == "/prod/api/v1/users/u%201"
    assert context["stage"] == "prod" and context["protocol"] == "HTTP/1.1"
    assert context["identity"]["sourceIp"] == "10.0.0.1"
    assert context["identity"]["userAgent"] == "pytest"
    assert isinstance(context["requestTimeEpoch"], int) and len(context["requestId"]) == 36


@pytest.mark.parametrize(
    ("base_path", "client_path"),
    [(None, "/prod/api/v1/docs"), ("", "/api/v1/docs"), ("/clara", "/clara/api/v1/docs")],
    ids=["execute-api-endpoint", "custom-domain-at-its-root", "custom-domain-base-path"],
)
def test_the_request_context_path_is_the_path_as_the_client_sent_it(base_path: str | None, client_path: str):
    event = api_gateway_event("GET", "/api/v1/docs", resource="/api/v1/docs", base_path=base_path)

    assert event["path"] == "/api/v1/docs"
    assert event["requestContext"]["path"] == client_path
    assert event["requestContext"]["stage"] == "prod"


def test_multi_valued_query_parameters_keep_every_value_and_the_last_wins_in_the_single_map():
    event = api_gateway_event("GET", "/x", resource="/x", query=[("tag", "a"), ("tag", "b"), ("page", "2")])

    assert event["queryStringParameters"] == {"tag": "b", "page": "2"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "page": ["2"]}


def test_a_binary_media_type_body_is_base64():
    body = b"--boundary\r\nContent-Disposition: form-data; name=file\r\n\r\n\xff\xfe\r\n--boundary--"

    event = api_gateway_event(
        "POST",
        "/upload",
        resource="/upload",
        headers={"Content-Type": "multipart/form-data; boundary=boundary"},
        body=body,
        binary_media_types=["multipart/form-data"],
    )

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_a_wildcard_binary_media_type_matches():
    event = api_gateway_event(
        "POST",
        "/u",
        resource="/u",
        headers={"Content-Type": "image/png"},
        body=b"\x89PNG",
        binary_media_types=["image/*"],
    )

    assert event["isBase64Encoded"] is True


def test_a_function_url_event_is_payload_2_0():
    event = function_url_event(
        "POST",
        "/hooks/stripe",
        "a=1&a=2",
        [("Content-Type", "application/json"), ("X-Many", "1"), ("X-Many", "2"), ("Cookie", "s=1; t=2")],
        b'{"id": "evt_1"}',
        query=[("a", "1"), ("a", "2")],
    )

    assert (event["version"], event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "2.0",
        "$default",
        "/hooks/stripe",
        "a=1&a=2",
    )
    assert event["headers"] == {"content-type": "application/json", "x-many": "1,2"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["body"] == '{"id": "evt_1"}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["accountId"] == "anonymous"


def test_a_function_url_event_base64_encodes_a_binary_body_and_omits_an_empty_one():
    binary = function_url_event("POST", "/", "", {"Content-Type": "application/octet-stream"}, b"\x00\x01")
    empty = function_url_event("GET", "/", "", {}, b"")

    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\x00\x01"
    assert "body" not in empty and "queryStringParameters" not in empty and "cookies" not in empty


def test_an_sqs_event_has_the_event_source_shape():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "MD5OfBody": "md5",
        "Body": "hello",
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "SenderId": "s",
            "ApproximateFirstReceiveTimestamp": "2",
        },
        "MessageAttributes": {
            "kind": {"StringValue": "job", "DataType": "String"},
            "blob": {"BinaryValue": b"\x01", "DataType": "Binary"},
        },
    }

    (record,) = sqs_event([message], queue_arn="arn:aws:sqs:us-east-1:123456789012:Q")["Records"]

    assert record["messageId"] == "m1" and record["receiptHandle"] == "r1" and record["body"] == "hello"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "job",
        "binaryValue": None,
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AQ=="
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        "arn:aws:sqs:us-east-1:123456789012:Q",
        "us-east-1",
    )


def test_the_lambda_context_counts_down():
    context = LambdaContext("MiscFunction", 3, memory_limit_in_mb=256)

    assert 2000 < context.get_remaining_time_in_millis() <= 3000
    assert context.invoked_function_arn.endswith(":function:MiscFunction")
    assert context.log_group_name == "/aws/lambda/MiscFunction"
