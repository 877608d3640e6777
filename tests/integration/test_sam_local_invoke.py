"""`sam local invoke <Function> -e <event> --env-vars events/env.json --parameter-overrides <development mode>`.

Each function's environment comes from SAM CLI's own code, as `sam local invoke` builds it: the stacks from
SamLocalStackProvider with the parameter overrides (parsed by SAM's own option type), the function from
SamFunctionProvider, events/env.json read by InvokeContext and merged by LocalLambdaRunner into an
EnvironmentVariables. Every sample event then runs, in process, on moto instead of `make run`'s emulation (the one
variable left out is AWS_ENDPOINT_URL, which names that emulation), with the sample user made and signed in
through the functions under that same environment, and answers 2xx.
"""

import base64
import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from samcli.cli.types import CfnParameterOverridesType
from samcli.commands.local.cli_common.invoke_context import InvokeContext
from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.provider import Function
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

from clara import secrets
from clara.settings import get_settings
from harness.accounts import basic, latest_code
from harness.inprocess import FUNCTIONS, ROOT, TEMPLATE, Stack, routed_event
from local_runtime.events import LambdaContext
from local_runtime.invoke import DEVELOPMENT_OVERRIDES, invoke_environment, on_this_machine
from local_runtime.resources import store_secret_values
from local_runtime.sample_events import (
    SAMPLE_API_KEY_TOKEN,
    SAMPLE_EMAIL,
    SAMPLE_PASSWORD,
    SAMPLE_USER_ID,
    SAMPLE_USER_TOKEN,
    Request,
    SampleUser,
    fresh_event,
    prepare_sample_user,
    webhook_secret_source,
)
from local_runtime.server import DEFAULT_PRIVATE_API_KEY, DEFAULT_PUBLIC_API_KEY
from local_runtime.stripe_standin import DEVELOPMENT_WEBHOOK_SECRET

from .test_sample_events import EVENTS, function_for

ENV_VARS_FILE = ROOT / "events" / "env.json"


@cache
def sam_function_provider() -> SamFunctionProvider:
    """What `sam local invoke --parameter-overrides <DEVELOPMENT_OVERRIDES>` reads the template into."""
    overrides = CfnParameterOverridesType().convert(DEVELOPMENT_OVERRIDES, None, None)
    stacks, _ = SamLocalStackProvider.get_stacks(
        str(ROOT / "template.yaml"),
        parameter_overrides=overrides,
        global_parameter_overrides={"AWS::Region": "us-east-1"},  # what `--region us-east-1` adds
    )
    return SamFunctionProvider(stacks)


def sam_environment(function_id: str) -> dict[str, str]:
    """The environment `sam local invoke <function_id> --env-vars events/env.json` gives the function's container."""
    provider = sam_function_provider()
    runner = LocalLambdaRunner(
        local_runtime=None,  # type: ignore[arg-type]  # only the container would need it
        function_provider=provider,
        cwd=str(ROOT),
        real_path=str(ROOT),
        aws_region="us-east-1",
        env_vars_values=InvokeContext._get_env_vars_value(str(ENV_VARS_FILE)),
    )
    function: Function | None = provider.get(function_id)
    assert function is not None, function_id
    environment: dict[str, str] = runner._make_env_vars(function).resolve()
    return environment


@pytest.fixture
def sam_invoke(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, dict[str, Any]], Any]:
    """Run the function's handler on the event with the environment SAM gives it (moto standing in for the
    emulation of `make run`)."""
    monkeypatch.setattr(secrets, "fetched", {})  # no secret value cached from another test's moto
    # What `make run` does to its emulation's secrets, with the keys it gives its functions by default.
    make_run_keys = {
        "PUBLIC_API_KEY": DEFAULT_PUBLIC_API_KEY,
        "PRIVATE_API_KEY": DEFAULT_PRIVATE_API_KEY,
        "STRIPE_WEBHOOK_SECRET": DEVELOPMENT_WEBHOOK_SECRET,
    }
    store_secret_values(TEMPLATE, stack.session, None, stack.physical_ids, make_run_keys)
    applied: set[str] = set()

    def invoke(function_id: str, event: dict[str, Any]) -> Any:
        environment = sam_environment(function_id)
        assert environment["AWS_ENDPOINT_URL"].startswith("http://host.docker.internal:")
        del environment["AWS_ENDPOINT_URL"]
        for name in applied - set(environment):  # the previous function's own variables
            monkeypatch.delenv(name, raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        applied.update(environment)
        get_settings.cache_clear()
        timeout = TEMPLATE.functions[function_id].timeout
        return FUNCTIONS.handler(function_id)(event, LambdaContext(function_id, timeout))

    return invoke


def through_the_api(sam_invoke: Callable[[str, dict[str, Any]], Any]) -> Request:
    """prepare_sample_user's transport: the API Gateway event of each request, to the function the template routes
    it to, under SAM's environment."""

    def request(method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> tuple[int, dict[str, Any]]:
        function_id, event = routed_event(method, f"/api/v1{path}", headers=dict(headers), body=body)
        result = sam_invoke(function_id, event)
        return result["statusCode"], json.loads(result["body"])

    return request


@pytest.fixture
def sample_user(sam_invoke: Callable[[str, dict[str, Any]], Any]) -> SampleUser:
    """The sample user, made and signed in as `make events` does, through the functions under SAM's environment."""
    return prepare_sample_user(through_the_api(sam_invoke), lambda address, since: latest_code(address))


def test_make_events_signs_in_the_sample_user_it_made_before(sam_invoke, sample_user: SampleUser):
    again = prepare_sample_user(through_the_api(sam_invoke), lambda address, since: latest_code(address))

    assert again.user_id == sample_user.user_id and again.user_token != sample_user.user_token


def webhook_secret(stack: Stack) -> str:
    """The signing secret `make events` signs the webhook event with: from the secret it finds (the one SAM gives
    the webhook), read here from moto rather than the emulation."""
    endpoint, secret_id = webhook_secret_source(TEMPLATE, json.loads(ENV_VARS_FILE.read_text()))
    assert endpoint == "http://127.0.0.1:5010"
    assert secret_id == sam_environment("StripeWebhookFunction")["STRIPE_WEBHOOK_SECRET_SECRET_ID"]
    return str(stack.session.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])


@pytest.mark.parametrize("event_file", EVENTS, ids=lambda path: path.name)
def test_sample_event_answers_2xx_under_sam_local_invoke(
    event_file: Path, stack: Stack, sam_invoke: Callable[[str, dict[str, Any]], Any], sample_user: SampleUser
):
    function_id = function_for(event_file)
    event = fresh_event(json.loads(event_file.read_text()), sample_user, webhook_secret=webhook_secret(stack))

    result = sam_invoke(function_id, event)

    if "Records" in event:  # SQS: every message handled
        assert result == {"batchItemFailures": []}
    elif "statusCode" in result:  # API Gateway and Function URL events
        assert 200 <= result["statusCode"] < 300, result
        if result["statusCode"] == 204:  # No Content: a delete
            assert not result["body"], result
            return
        body = json.loads(result["body"])
        assert set(body) == ({"jsonrpc", "id", "result"} if "jsonrpc" in body else {"data", "message", "status"})
        if function_id == "StripeWebhookFunction":  # signed with the secret SAM's webhook reads: a new purchase
            assert body["data"] == {"outcome": "credited"}
    else:  # the schedule: the sweep's summary
        assert isinstance(result, dict), result


def test_sam_resolves_the_development_mode_and_the_emulations_names():
    environment = sam_environment("AuthFunction")

    assert environment["ENVIRONMENT"] == "development"
    assert environment["ANALYZER"] == "local"
    assert environment["AWS_ENDPOINT_URL"] == "http://host.docker.internal:5010"
    # A resource's logical id: the name of the secret the local runtime creates for it.
    assert environment["JWT_SECRET_KEY_SECRET_ID"] == "JwtSecret"
    assert environment["PUBLIC_API_KEY_SECRET_ID"] == "PublicApiKeySecret"


@pytest.mark.parametrize("function_id", sorted(TEMPLATE.functions))
def test_sam_names_what_make_run_creates(function_id: str, stack: Stack):
    """Under events/env.json, a function names the table, queue, bucket and secrets the local runtime creates, on
    the port `make run` gives its emulation."""
    environment = sam_environment(function_id)
    makefile = (ROOT / "Makefile").read_text()

    assert f"MOTO_PORT ?= {urlsplit(environment['AWS_ENDPOINT_URL']).port}" in makefile
    assert environment["TABLE_NAME"] == stack.physical_ids["ClaraTable"]
    assert environment["ATTACHMENTS_BUCKET"] == stack.physical_ids["AttachmentsBucket"]
    queue_url = urlsplit(environment["ANALYSIS_QUEUE_URL"])
    assert queue_url.netloc == urlsplit(environment["AWS_ENDPOINT_URL"]).netloc
    assert queue_url.path == urlsplit(stack.physical_ids["AnalysisQueue"]).path
    secretsmanager = stack.session.client("secretsmanager")
    secret_ids = [value for name, value in environment.items() if name.endswith("_SECRET_ID")]
    assert len(secret_ids) == 5
    for secret_id in secret_ids:
        secretsmanager.describe_secret(SecretId=secret_id)


@pytest.mark.parametrize("function_id", sorted(TEMPLATE.functions))
def test_make_invoke_gives_a_function_what_sam_local_invoke_gives_it(function_id: str):
    """local_runtime.invoke (`make invoke`) resolves the template as SAM does: the same variables and values,
    host.docker.internal being 127.0.0.1 outside Docker."""
    env_vars = json.loads(ENV_VARS_FILE.read_text())
    parameters = dict(pair.split("=", 1) for pair in DEVELOPMENT_OVERRIDES.split())
    sam = sam_environment(function_id)

    twin = invoke_environment(TEMPLATE, function_id, env_vars, parameters)

    assert twin == {name: on_this_machine(sam[name]) for name in twin}
    assert set(sam) - set(twin) == {name for name in sam if name.startswith("AWS_") and name != "AWS_ENDPOINT_URL"}


def test_the_committed_events_carry_the_sample_placeholders():
    """What `make events` and the test above replace is what the committed events say."""
    texts = {path.name: path.read_text() for path in EVENTS}
    register = json.loads(texts["auth.json"])

    assert basic(SAMPLE_EMAIL, SAMPLE_PASSWORD) in texts["auth.login.json"]
    assert SAMPLE_EMAIL in base64.b64decode(register["body"]).decode()
    for placeholder in (SAMPLE_USER_ID, SAMPLE_USER_TOKEN, SAMPLE_API_KEY_TOKEN):
        assert any(placeholder in text for text in texts.values()), placeholder
