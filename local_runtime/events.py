"""The events AWS hands to a function: API Gateway REST (v1) proxy, Function URL (v2), SQS, EventBridge schedules;
and a LambdaContext."""

from __future__ import annotations

import base64
import fnmatch
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
API_ID = "local"

# Multi-valued input: a mapping (a value may be a list) or (name, value) pairs in order.
MultiValued = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]

# Function URLs pass these bodies as text; everything else arrives base64-encoded.
_TEXT_MEDIA_TYPES = (
    "text/*",
    "application/json",
    "application/*+json",
    "application/javascript",
    "application/xml",
    "application/*+xml",
    "application/yaml",
    "application/x-www-form-urlencoded",
)


def _pairs(values: MultiValued | None) -> list[tuple[str, str]]:
    if values is None:
        return []
    if isinstance(values, Mapping):
        pairs: list[tuple[str, str]] = []
        for name, value in values.items():
            pairs += [(name, value)] if isinstance(value, str) else [(name, item) for item in value]
        return pairs
    return list(values)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _matches(media_type: str, patterns: Iterable[str]) -> bool:
    return bool(media_type) and any(fnmatch.fnmatchcase(media_type, pattern.lower()) for pattern in patterns)


def _header(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in pairs if key.lower() == name.lower()), None)


def _body(body: bytes | str | None, as_base64: bool) -> str | None:
    if body is None or body in (b"", ""):
        return None
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return base64.b64encode(raw).decode("ascii") if as_base64 else raw.decode("utf-8", errors="replace")


def _user_agent(pairs: list[tuple[str, str]]) -> str:
    return _header(pairs, "User-Agent") or ""


def api_gateway_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    headers: MultiValued | None = None,
    query: MultiValued | None = None,
    body: bytes | str | None = None,
    binary_media_types: Iterable[str] = (),
    stage: str = "prod",
    base_path: str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The REST API (payload 1.0) proxy event: single- and multi-value maps are None when empty, as AWS sends.

    `path` is what the client sent, after the stage (API Gateway keeps its percent-encoding); `path_parameters`
    are given decoded. The body is base64 when its Content-Type is one of the API's binary media types.
    `base_path` is what the client's URL had before `path`: None for API Gateway's own (execute-api) endpoint,
    where that is `/{stage}`; a custom domain's base path, or "" for one that maps the stage at its root, as the
    local runtime's URLs do. requestContext.path is the two together, the path as the client sent it.
    """
    header_pairs, query_pairs = _pairs(headers), _pairs(query)
    as_base64 = _matches(_media_type(_header(header_pairs, "Content-Type")), binary_media_types)
    encoded_body = _body(body, as_base64)
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": {name: value for name, value in header_pairs} or None,
        "multiValueHeaders": _multi(header_pairs),
        "queryStringParameters": {name: value for name, value in query_pairs} or None,  # the last value wins
        "multiValueQueryStringParameters": _multi(query_pairs),
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "extendedRequestId": base64.b32encode(uuid.uuid4().bytes).decode("ascii")[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": (f"/{stage}" if base_path is None else base_path) + path,
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": _user_agent(header_pairs),
                "user": None,
            },
            "domainName": _header(header_pairs, "Host") or "localhost",
            "apiId": API_ID,
        },
        "body": encoded_body,
        "isBase64Encoded": as_base64 and encoded_body is not None,
    }


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped or None


def function_url_event(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: MultiValued | None,
    body: bytes | str | None,
    *,
    query: MultiValued | None = None,
    source_ip: str = "127.0.0.1",
    domain_name: str = "localhost",
) -> dict[str, Any]:
    """The Function URL event (payload 2.0): lower-case headers joined by commas, cookies apart, text or base64."""
    header_pairs = [(name.lower(), value) for name, value in _pairs(headers)]
    cookies = [
        cookie.strip() for name, value in header_pairs if name == "cookie" for cookie in value.split(";") if cookie
    ]
    joined: dict[str, str] = {}
    for name, value in header_pairs:
        if name != "cookie":
            joined[name] = f"{joined[name]},{value}" if name in joined else value
    query_joined: dict[str, str] = {}
    for name, value in _pairs(query):
        query_joined[name] = f"{query_joined[name]},{value}" if name in query_joined else value
    as_base64 = not _matches(_media_type(joined.get("content-type")), _TEXT_MEDIA_TYPES)
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": API_ID,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query_joined:
        event["queryStringParameters"] = query_joined
    encoded_body = _body(body, as_base64)
    if encoded_body is not None:  # AWS leaves `body` out when there is none
        event["body"] = encoded_body
        event["isBase64Encoded"] = as_base64
    return event


def _message_attributes(attributes: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """boto3's MessageAttributes in the lower-camel shape the SQS event source uses (binary as base64)."""

    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    return {
        name: {
            "stringValue": attribute.get("StringValue"),
            "binaryValue": b64(attribute["BinaryValue"]) if "BinaryValue" in attribute else None,
            "stringListValues": list(attribute.get("StringListValues", [])),
            "binaryListValues": [b64(value) for value in attribute.get("BinaryListValues", [])],
            "dataType": attribute.get("DataType", "String"),
        }
        for name, attribute in attributes.items()
    }


def scheduled_event(rule_name: str, *, region: str = REGION) -> dict[str, Any]:
    """What an EventBridge schedule rule sends its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


def sqs_event(messages: Iterable[Mapping[str, Any]], *, queue_arn: str, region: str = REGION) -> dict[str, Any]:
    """The event the SQS event source sends, from messages as boto3's receive_message returns them."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
                "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


@dataclass
class LambdaContext:
    """What Lambda passes as `context`: the attributes Powertools and most handlers read."""

    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{datetime.now(UTC):%Y/%m/%d}/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
