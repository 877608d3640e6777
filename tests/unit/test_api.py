"""The resolver factory every function uses: each way a request can go wrong ends as the contract's envelope."""

import io
import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field

from clara.contract.errors import NoAccess
from clara.http.app import create_app, lambda_handler_for, read_body, read_page
from clara.http.envelope import success
from clara.observability import logger
from clara.settings import get_settings
from harness.accounts import error
from local_runtime.events import LambdaContext, api_gateway_event


class Greeting(BaseModel):
    name: str = Field(min_length=1)
    times: int = 1


app = create_app()


@app.post("/greetings")
def greet() -> Response[Any]:
    greeting = read_body(app.current_event, Greeting)
    return success({"text": f"Hello {greeting.name}" * greeting.times}, "Greeted.", 201)


@app.get("/greetings")
def list_greetings() -> Response[Any]:
    return success(read_page(app.current_event).model_dump(), "Listed.")


@app.get("/forbidden")
def forbidden() -> Response[Any]:
    raise NoAccess()


@app.get("/boom")
def boom() -> Response[Any]:
    raise RuntimeError("database password is hunter2")


handler = lambda_handler_for(app)


def call(method: str, path: str, body: str | None = None, content_type: str | None = "application/json", query=None):
    headers = {"Content-Type": content_type} if content_type else {}
    event = api_gateway_event(method, f"/api/v1{path}", resource="/{proxy+}", headers=headers, body=body, query=query)
    result = handler(event, LambdaContext("TestFunction", 3))
    return result["statusCode"], json.loads(result["body"])


INVALID = error("One or more required parameters are either not given or have invalid schema.")  # data: the fields


def test_a_valid_request_reaches_the_route():
    assert call("POST", "/greetings", json.dumps({"name": "Ada", "times": 2})) == (
        201,
        {"data": {"text": "Hello AdaHello Ada"}, "message": "Greeted.", "status": "success"},
    )


@pytest.mark.parametrize("body", [None, "", "   "])
def test_a_missing_body_is_empty_body(body):
    assert call("POST", "/greetings", body) == (400, error("Request body is empty."))


@pytest.mark.parametrize(
    "body",
    ['{"name": "Ada"', "not json", "[1, 2]", '{"name": ""}', '{"times": 2}', '{"name": "Ada", "times": "x"}', "null"],
)
def test_malformed_or_invalid_json_is_invalid_schema(body):
    assert call("POST", "/greetings", body) == (400, INVALID)


def test_a_body_of_another_content_type_is_empty_body_as_the_contract_says():
    """docs/contract.md, Bodies: a non-JSON body gives 400 Empty Body."""
    assert call("POST", "/greetings", "name=Ada", content_type="text/plain") == (400, error("Request body is empty."))


def test_a_json_body_without_content_type_is_read():
    assert call("POST", "/greetings", '{"name": "Ada"}', content_type=None)[0] == 201


def test_invalid_utf8_never_breaks_the_handler():
    """API Gateway hands non-UTF-8 text bodies over with replacement characters; the handler copes either way."""
    assert call("POST", "/greetings", b'{"name": "\xff\xfe"}')[0] == 201
    assert call("POST", "/greetings", b'{"name": \xff}') == (400, INVALID)


@pytest.mark.parametrize(
    "query", [{"limit": "1000"}, {"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"offset": "1.5"}]
)
def test_an_invalid_page_is_invalid_schema(query):
    assert call("GET", "/greetings", query=query) == (400, INVALID)


def test_a_page_defaults_to_20_from_0_and_a_body_on_a_get_is_ignored():
    assert call("GET", "/greetings", '{"unexpected": true}') == (
        200,
        {"data": {"limit": 20, "offset": 0}, "message": "Listed.", "status": "success"},
    )


def test_a_contract_error_is_its_envelope():
    assert call("GET", "/forbidden") == (403, error("You do not have access to the requested resource."))


def test_an_unknown_route_is_404_and_a_wrong_method_is_405():
    assert call("GET", "/nothing-here") == (404, error("The requested route does not exist."))
    assert call("DELETE", "/greetings") == (405, error("The requested method is not allowed for this route."))


@pytest.fixture
def log_lines():
    """What the functions' Powertools logger writes (JSON, one object per line)."""
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.registered_handler.setStream(previous)


def test_an_unhandled_error_is_500_with_the_detail_in_the_log_only(log_lines):
    status, body = call("GET", "/boom")

    assert (status, body) == (500, error("Something went wrong."))
    assert "hunter2" not in json.dumps(body)
    [logged] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert logged["exception_name"] == "RuntimeError"


def test_log_lines_carry_the_request_id_as_correlation_id(log_lines):
    event = api_gateway_event("GET", "/api/v1/boom", resource="/{proxy+}")
    handler(event, LambdaContext("TestFunction", 3))

    [logged] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert logged["correlation_id"] == event["requestContext"]["requestId"]


@pytest.fixture
def cors(monkeypatch: pytest.MonkeyPatch):
    def allow(origins: str) -> None:
        monkeypatch.setenv("CORS_ALLOW_ORIGIN", origins)
        get_settings.cache_clear()

    yield allow
    monkeypatch.delenv("CORS_ALLOW_ORIGIN", raising=False)
    get_settings.cache_clear()


def raw_call(method: str, headers: dict[str, str]) -> dict:
    event = api_gateway_event(method, "/api/v1/greetings", resource="/{proxy+}", headers=headers)
    return handler(event, LambdaContext("TestFunction", 3))


def test_an_allowed_origin_gets_its_permission_on_answers_and_errors(cors):
    cors("https://app.example.com,https://admin.example.com")

    listed = raw_call("GET", {"Origin": "https://app.example.com"})
    refused = raw_call("DELETE", {"Origin": "https://admin.example.com"})

    assert listed["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["https://app.example.com"]
    # A script may read an analysis's Location and a 429's or 503's Retry-After (not a simple response header).
    exposed = listed["multiValueHeaders"]["Access-Control-Expose-Headers"][0].split(",")
    assert {"Location", "Retry-After"} <= set(exposed)
    assert refused["statusCode"] == 405
    assert refused["multiValueHeaders"]["Access-Control-Allow-Origin"] == ["https://admin.example.com"]


def test_a_preflight_from_an_allowed_origin_is_answered(cors):
    cors("https://app.example.com")

    answer = raw_call("OPTIONS", {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})

    assert answer["statusCode"] == 204
    headers = answer["multiValueHeaders"]
    assert headers["Access-Control-Allow-Origin"] == ["https://app.example.com"]
    assert "POST" in headers["Access-Control-Allow-Methods"][0]
    assert "Authorization" in headers["Access-Control-Allow-Headers"][0]


def test_other_origins_and_cors_off_get_no_permission(cors):
    cors("https://app.example.com")
    elsewhere = raw_call("GET", {"Origin": "https://evil.example.com"})
    preflight = raw_call("OPTIONS", {"Origin": "https://evil.example.com"})
    cors("")
    off = raw_call("GET", {"Origin": "https://app.example.com"})

    assert "Access-Control-Allow-Origin" not in (elsewhere.get("multiValueHeaders") or {})
    assert preflight["statusCode"] == 405
    assert "Access-Control-Allow-Origin" not in (off.get("multiValueHeaders") or {})
