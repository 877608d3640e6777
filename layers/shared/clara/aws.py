"""The AWS clients of a function: one per service, created on first use and reused by every later request of the
instance. Region and endpoint (AWS_ENDPOINT_URL) come from the environment.

They are botocore's clients from one botocore session, not boto3's: boto3 adds nothing a client needs here
(resources and S3 transfers go unused) and its import (s3transfer, multiprocessing) costs about 95 M instructions,
some 19 ms, at every cold start (docs/budgets.md, Cold start). Nothing in the layer imports boto3.

Every client has the same bounds (clara.settings): connect within AWS_CONNECT_TIMEOUT_SECONDS, answer within
AWS_READ_TIMEOUT_SECONDS, at most AWS_MAX_ATTEMPTS attempts in botocore's standard retry mode (exponential backoff
with jitter, throttling and 5xx retried). With the defaults (1 s, 3 s, 3) a dependency that does not answer costs
at most about 12 s, inside an API function's 15 s, so the client gets a 503 rather than a gateway timeout.
Bedrock keeps its own longer read timeout (clara.integrations.analyzers.bedrock).

`overloaded` says whether an error is AWS throttling or unavailable, after those retries: the API answers it
with ServiceBusy (503, Retry-After), never a bare 500.
"""

import sys
from functools import cache
from typing import Any

from clara.contract.errors import ClaraError, ServiceBusy, SomethingWentWrong
from clara.settings import get_settings

# Error codes of throttling, across services (DynamoDB, SQS, S3, SES, Secrets Manager, STS, ...).
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "BandwidthLimitExceeded",
        "TransactionInProgressException",
    }
)
# The service's own fault, or no answer in time: another try later may well succeed.
UNAVAILABLE_CODES = frozenset(
    {
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalError",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
# A DynamoDB transaction cancelled for one of these reasons was not refused: it met contention or throttling.
BUSY_CANCELLATION_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})


def client_config() -> Any:
    from botocore.config import Config

    settings = get_settings()
    return Config(
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        retries={"mode": "standard", "total_max_attempts": settings.aws_max_attempts},
    )


@cache
def aws_session() -> Any:
    """The process's botocore session: credentials resolved once, and the events every client copies on creation."""
    import botocore.session

    return botocore.session.get_session()


@cache
def aws_client(service: str) -> Any:
    return aws_session().create_client(service, config=client_config())


def overloaded(error: BaseException | None) -> bool:
    """Whether `error`, or an error it was raised from, is an AWS service throttling, failing on its side (5xx)
    or not answering in time. Refusals (access denied, validation, conditions) are not: they are bugs or answers."""
    for _ in range(5):  # the chain of causes, as far as wrappers go
        if error is None:
            return False
        if _overloaded(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _overloaded(error: BaseException) -> bool:
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return False  # botocore was never imported: no AWS call was made
    if isinstance(error, exceptions.ConnectionError | exceptions.HTTPClientError):
        return True  # connect or read timeout, refused or dropped connection
    if not isinstance(error, exceptions.ClientError):
        return False
    response = error.response or {}
    # "AWS.SimpleQueueService.RequestThrottled", "com.amazonaws.dynamodb.v20120810#ThrottlingException": the name.
    code = str(response.get("Error", {}).get("Code", "")).rsplit("#", 1)[-1].rsplit(".", 1)[-1]
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in THROTTLING_CODES or code in UNAVAILABLE_CODES or status >= 500:
        return True
    reasons = {str(reason.get("Code")) for reason in response.get("CancellationReasons", [])}
    return code == "TransactionCanceledException" and bool(reasons & BUSY_CANCELLATION_REASONS)


def unexpected_error(error: BaseException) -> ClaraError:
    """What a client is told of an error the code did not handle (the detail goes to the log only): ServiceBusy
    when AWS is overloaded, which is worth retrying, else SomethingWentWrong. A SomethingWentWrong raised from an
    overload becomes ServiceBusy too."""
    if isinstance(error, ClaraError) and type(error) is not SomethingWentWrong:
        return error
    if overloaded(error):
        return ServiceBusy()
    return error if isinstance(error, SomethingWentWrong) else SomethingWentWrong()
