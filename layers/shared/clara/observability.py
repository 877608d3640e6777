"""Powertools Logger, Tracer and Metrics, shared by every function of the stack."""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from clara import snapstart
from clara.settings import SERVICE_NAME

# Each function's log lines carry its own function_name (from the Lambda context) under one service name.
logger = Logger(service=SERVICE_NAME)
# Only boto calls become subsegments: patching everything the SDK knows imports sqlite3, httplib and more at
# cold start for libraries the functions do not use.
tracer = Tracer(service=SERVICE_NAME, patch_modules=("botocore",))
metrics = Metrics(service=SERVICE_NAME, namespace="Clara")

# Most requests record no metric of their own; Powertools would warn about that on every one of them.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

# Every function imports this module during init: with SnapStart, each restored environment resets what it must not
# share with the others (clara.snapstart).
snapstart.register()


def count(name: str, value: float = 1) -> None:
    """A business metric (Registrations, LoginsFailed, AnalysesCompleted, ...), flushed with the invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
