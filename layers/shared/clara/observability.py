"""Powertools Logger, Tracer and Metrics, shared by every function of the stack."""

import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from clara import snapstart
from clara.settings import SERVICE_NAME

DEFAULT_METRICS_NAMESPACE = "Clara"
Handler = TypeVar("Handler", bound=Callable[..., Any])


def service_and_namespace(environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE when set (the stack sets both in its Globals),
    else clara-backend and Clara. Powertools reads them itself only when no value is passed, and then falls back
    to "service_undefined" and no namespace at all."""
    service = environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE_NAME
    namespace = environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE
    return service, namespace


SERVICE, NAMESPACE = service_and_namespace()
# Each function's log lines carry its own function_name (from the Lambda context) under one service name.
logger = Logger(service=SERVICE)
# Only boto calls become subsegments: patching everything the SDK knows imports sqlite3, httplib and more at
# cold start for libraries the functions do not use.
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)

# Most requests record no metric of their own; Powertools would warn about that on every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

# Every function imports this module during init: with SnapStart, each restored environment resets what it must not
# share with the others (clara.snapstart).
snapstart.register()


def traced(handler: Handler) -> Handler:
    """tracer.capture_lambda_handler without the answer in the trace: X-Ray would keep it as the subsegment's
    metadata, and an answer may carry a session token, an API key or a customer's data (errors are still captured)."""
    return tracer.capture_lambda_handler(handler, capture_response=False)  # type: ignore[return-value]


def count(name: str, value: float = 1) -> None:
    """A business metric (Registrations, LoginsFailed, AnalysesCompleted, ...), flushed with the invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
