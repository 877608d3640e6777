"""The in-process stack: the real lambda_handler of each function, API Gateway events, AWS emulated by moto.

Tables, queues and buckets are created from template.yaml's own resource definitions, and each function sees
the environment the template gives it, so a caller exercises the deployed wiring, not a copy of it. The tests'
fixtures (tests/integration/conftest.py) and the benchmark's stack (bench/inprocess.py) are built from these
pieces.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3

from clara.settings import get_settings
from local_runtime.environment import function_environment
from local_runtime.events import LambdaContext, api_gateway_event
from local_runtime.functions import FunctionRegistry, add_layers_to_path
from local_runtime.template import load_template
from local_runtime.transaction_tokens import install as honour_transaction_tokens

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = load_template(ROOT / "template.yaml")
add_layers_to_path(TEMPLATE)
# Handler modules are loaded once per process, like a warm Lambda instance; state lives in moto.
FUNCTIONS = FunctionRegistry(TEMPLATE)
# moto in process answers a retried transaction as DynamoDB does: its ClientRequestToken makes it a no-op.
honour_transaction_tokens()


# Known keys for the tests, bcrypt at its minimum cost (one test measures cost 12), and a rate limit that only
# the rate-limit tests reach. Everything else comes from template.yaml.
TEST_ENVIRONMENT = {
    "ENVIRONMENT": "test",
    "PUBLIC_API_KEY": "test-public-key",
    "PRIVATE_API_KEY": "test-private-key",
    "BCRYPT_ROUNDS": "4",
    "RATE_LIMIT_PER_SECOND": "10000",
    "ANALYZER": "local",
}

# The process environment of the emulated stack: moto's credentials, and no Powertools tracing or metrics.
AWS_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


@dataclass
class Stack:
    """The emulated stack: a boto3 session on moto and the physical id of every template resource."""

    session: boto3.session.Session
    physical_ids: dict[str, str]


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str
    is_base64_encoded: bool = False

    @property
    def json(self) -> Any:
        return json.loads(self.text)


def api_response(result: dict[str, Any]) -> ApiResponse:
    """A REST proxy integration's result as the client receives it."""
    # REST proxy responses may carry headers in either map; API Gateway merges both.
    headers = {name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()}
    headers.update(result.get("headers") or {})
    return ApiResponse(result["statusCode"], headers, result.get("body") or "", bool(result.get("isBase64Encoded")))


def routed_event(
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    query: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    base_path: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The function template.yaml routes `method path` to, and the REST proxy event API Gateway would send it
    (by default, a request to its execute-api endpoint; `base_path` as in local_runtime.events.api_gateway_event)."""
    match = TEMPLATE.match_route(method, path)
    assert match is not None, f"template.yaml routes no function for {method} {path}"
    event = api_gateway_event(
        method,
        path,
        resource=match.route.path,
        path_parameters={name: unquote(value) for name, value in match.path_parameters.items()},
        headers=headers,
        query=query,
        body=body,
        binary_media_types=TEMPLATE.binary_media_types,
        base_path=base_path,
        source_ip=source_ip,
    )
    return match.function.logical_id, event


def call(
    stack: Stack,
    setenv: Callable[[str, str], None],
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    query: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    base_path: str | None = None,
) -> ApiResponse:
    """Send `method path` the way API Gateway would: to the function the template routes it to, as its event,
    with the function's environment set through `setenv` (a test's monkeypatch.setenv).

    `env` adds to (or overrides) the environment the template gives the function; `source_ip` is the client
    address API Gateway saw; `base_path` what the client's URL had before the path (None: `/prod`).
    """
    function_id, event = routed_event(
        method, path, headers=headers, body=body, query=query, source_ip=source_ip, base_path=base_path
    )
    overrides = {**TEST_ENVIRONMENT, **(env or {})}
    for name, value in function_environment(TEMPLATE, function_id, stack.physical_ids, overrides).items():
        setenv(name, value)
    get_settings.cache_clear()

    timeout = TEMPLATE.functions[function_id].timeout
    return api_response(FUNCTIONS.handler(function_id)(event, LambdaContext(function_id, timeout)))
