"""The in-process stack of the warm and round-trip measurements: each function's real lambda_handler with AWS
emulated by moto, built from the pieces the tests' fixtures are built from (harness/inprocess.py: template.yaml's
resources, the environment the template gives each function, the tests' keys and bcrypt cost).

What differs from the tests' call_api fixture: a request is prepared (environment, event) apart from its
invocation, so a timer can wrap the handler alone, and the function's settings are re-read only when its
environment changes, as in a warm Lambda instance. Meters accumulate the time spent inside botocore calls and
inside bcrypt, so that time can be taken out of a request's.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import bcrypt
import boto3
import pytest
from botocore.client import BaseClient
from moto import mock_aws

import clara.aws
from clara.settings import get_settings
from harness.inprocess import (
    AWS_ENVIRONMENT,
    FUNCTIONS,
    TEMPLATE,
    TEST_ENVIRONMENT,
    ApiResponse,
    Stack,
    api_response,
    routed_event,
)
from local_runtime.environment import function_environment
from local_runtime.events import LambdaContext
from local_runtime.resources import create_resources


class Meter:
    """The seconds spent, and the calls made, inside the functions it wraps since its last reset."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls: list[str] = []

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, []

    def wrap(self, function: Callable[..., Any], name: Callable[..., str]) -> Callable[..., Any]:
        def measured(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls.append(name(*args))

        return measured


@dataclass
class Invocation:
    """One prepared event for one function, ready to be timed."""

    handler: Callable[[dict[str, Any], Any], Any]
    event: dict[str, Any]
    context: LambdaContext

    def __call__(self) -> Any:
        return self.handler(self.event, self.context)


@dataclass
class Harness:
    stack: Stack
    patch: pytest.MonkeyPatch
    aws: Meter  # every botocore API call, named "service:Operation"
    bcrypt: Meter  # every bcrypt.checkpw
    environment: dict[str, str] = field(default_factory=dict)

    def invocation(self, function_id: str, event: dict[str, Any], env: dict[str, str] | None = None) -> Invocation:
        """`event` for `function_id`, in the environment template.yaml gives it (plus the tests' and `env`)."""
        wanted = function_environment(
            TEMPLATE, function_id, self.stack.physical_ids, {**TEST_ENVIRONMENT, **(env or {})}
        )
        if wanted != self.environment:  # a cold settings read on every request would not be a warm request
            for name, value in wanted.items():
                self.patch.setenv(name, value)
            get_settings.cache_clear()
            self.environment = wanted
        function = TEMPLATE.functions[function_id]
        return Invocation(FUNCTIONS.handler(function_id), event, LambdaContext(function_id, function.timeout))

    def request(self, method: str, path: str, *, env: dict[str, str] | None = None, **parts: Any) -> Invocation:
        """An API Gateway REST event for the function template.yaml routes `method path` to, as call_api builds:
        `parts` are harness.inprocess.routed_event's (headers, body, query, ...)."""
        function_id, event = routed_event(method, path, **parts)
        return self.invocation(function_id, event, env)

    def call_api(self, method: str, path: str, **arguments: Any) -> ApiResponse:
        """The tests' call_api, so their helpers (harness/accounts.py) can set up users here."""
        return api_response(self.request(method, path, **arguments)())


@contextmanager
def emulated_stack() -> Iterator[Harness]:
    """template.yaml's resources in moto, metered; the process environment is restored on the way out."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_ENVIRONMENT.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        aws, checks = Meter(), Meter()
        call = BaseClient._make_api_call  # every boto3 call of every client goes through it
        patch.setattr(
            BaseClient, "_make_api_call", aws.wrap(call, lambda c, op, *_: f"{c.meta.service_model.service_name}:{op}")
        )
        patch.setattr(bcrypt, "checkpw", checks.wrap(bcrypt.checkpw, lambda *_: "checkpw"))
        with mock_aws():
            clara.aws.aws_client.cache_clear()  # clients of this moto instance
            session = boto3.Session(region_name="us-east-1")
            yield Harness(Stack(session, create_resources(TEMPLATE, session, endpoint_url=None)), patch, aws, checks)
            clara.aws.aws_client.cache_clear()
        get_settings.cache_clear()
