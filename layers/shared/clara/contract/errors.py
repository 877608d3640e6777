"""The error catalogue of the contract (docs/contract.md, Errors): one typed exception per row.

Logic raises these; the resolver factory turns every one into the envelope with its status, in one place.
"""

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError


class ClaraError(Exception):
    """An error the client is meant to see: an HTTP status, the contract's exact message and optional data."""

    status_code = 500
    message = "Something went wrong."

    def __init__(self, message: str | None = None, *, data: Any = None, headers: dict[str, str] | None = None):
        self.message = message or self.message
        self.data = data
        self.headers = headers or {}
        super().__init__(self.message)


def problems(found: Iterable[tuple[str, str]]) -> dict[str, list[dict[str, str]]]:
    """The `data` of a 400 that says what is wrong: `{"errors": [{"field": ..., "problem": ...}]}` (the message
    stays the contract's)."""
    return {"errors": [{"field": field, "problem": problem} for field, problem in found]}


class EmptyBody(ClaraError):
    status_code = 400
    message = "Request body is empty."


class InvalidSchema(ClaraError):
    status_code = 400
    message = "One or more required parameters are either not given or have invalid schema."

    @classmethod
    def of(cls, error: ValidationError) -> "InvalidSchema":
        """The 400 naming each field pydantic refused and why; never the value sent (it may be a password)."""
        found = error.errors(include_url=False, include_input=False, include_context=False)
        return cls(data=problems((_field(item["loc"]), _problem(item)) for item in found))

    @classmethod
    def because(cls, field: str, problem: str) -> "InvalidSchema":
        """The 400 of a rule checked by hand (an upload's type, the number of files), naming its field."""
        return cls(data=problems([(field, problem)]))


def _field(location: tuple[int | str, ...]) -> str:
    """`return_path`, `files.0.name`; the request itself (malformed JSON, a list for an object) is `body`."""
    return ".".join(str(part) for part in location) or "body"


def _problem(item: Any) -> str:
    if item["type"] == "missing":
        return "required"
    return str(item["msg"]).removeprefix("Value error, ")  # our validators' own words, without pydantic's prefix


class AlreadyExists(ClaraError):
    """A duplicate resource; the contract answers 400 here, not 409."""

    status_code = 400

    def __init__(self, resource: str):
        super().__init__(f"{resource} with the given identifier already exists.")


class AuthenticationFailed(ClaraError):
    status_code = 401
    message = "Authorization header or OTP is either missing, invalid or expired."


class TwoFactorRequired(AuthenticationFailed):
    """Same message as AuthenticationFailed; the data tells clients to prompt for the 2FA code."""

    def __init__(self) -> None:
        super().__init__(data={"is_2fa_enabled": True})


class InactiveUser(ClaraError):
    status_code = 401
    message = "Please activate your account to access the requested resource."


class NoAccess(ClaraError):
    status_code = 403
    message = "You do not have access to the requested resource."


class InsufficientCredits(ClaraError):
    status_code = 403
    message = "You do not have enough credits to perform this action."


class NotFound(ClaraError):
    status_code = 404

    def __init__(self, resource: str):
        super().__init__(f"{resource} with the given identifier does not exist.")


class CreditsRateNotFound(ClaraError):
    status_code = 404
    message = "No credits rate found for the given amount."


class RouteNotFound(ClaraError):
    status_code = 404
    message = "The requested route does not exist."


class MethodNotAllowed(ClaraError):
    status_code = 405
    message = "The requested method is not allowed for this route."


class IdempotencyKeyReused(ClaraError):
    """Not in the contract's table: a retry must repeat its request; a different one under the same key is a
    client's mistake that silently answering the first result would hide."""

    status_code = 409
    message = "The Idempotency-Key was already used with a different request."


class TaskNotCancellable(ClaraError):
    """Not in the contract's table: a cancel of a task a worker has claimed (PROCESSING) or that has ended."""

    status_code = 409
    message = "The task can no longer be cancelled."


class StripeEventRefused(ClaraError):
    """Not in the contract's table: a Stripe webhook request that is not a genuine, fresh Stripe event; the message
    says what was wrong (clara.domain.credits.purchases.InvalidWebhook)."""

    status_code = 400


class WebhookUrlRefused(ClaraError):
    """Not in the contract's table: a webhook URL the address policy refuses (clara.integrations.web.receivers)."""

    status_code = 400
    message = "The webhook URL is not allowed."

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(f"The webhook URL is not allowed: {reason}" if reason else None)


class WebhookLimitReached(ClaraError):
    """Not in the contract's table: a user has as many webhook endpoints as allowed."""

    status_code = 400

    def __init__(self, cap: int) -> None:
        super().__init__(f"A user may have at most {cap} webhook endpoints.")


class PayloadTooLarge(ClaraError):
    """Not in the contract's table; API Gateway answers 413 for oversized requests and we keep that status."""

    status_code = 413
    message = "The request is too large."


class RateLimitExceeded(ClaraError):
    status_code = 429
    message = "You have exceeded the rate limit."

    def __init__(self, retry_after_seconds: int = 1):
        super().__init__(headers={"Retry-After": str(max(1, retry_after_seconds))})


class SomethingWentWrong(ClaraError):
    status_code = 500
    message = "Something went wrong."


class ServiceBusy(ClaraError):
    """Not in the contract's table: an AWS service (or the mail service) is throttling or unavailable after the
    SDK's retries. Retryable, unlike a 500, and nothing was half-written."""

    status_code = 503
    message = "The service is busy. Please try again shortly."

    def __init__(self, retry_after_seconds: int = 2):
        super().__init__(headers={"Retry-After": str(max(1, retry_after_seconds))})
