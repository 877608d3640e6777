"""The AWS clients of a function: one per service, created on first use (boto3 is imported then, not at cold
start) and reused by every later request of the instance. Region and endpoint (AWS_ENDPOINT_URL) come from
the environment."""

from functools import cache
from typing import Any


@cache
def aws_client(service: str) -> Any:
    import boto3

    return boto3.client(service)  # type: ignore[call-overload]  # any service name, not one of the stubs' literals
