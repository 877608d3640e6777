"""The error catalogue answers every row of the contract (docs/contract.md, Errors) with its status and words."""

import json

import pytest

from clara.contract import errors
from clara.http.envelope import failure

CONTRACT_ROWS = [
    (errors.EmptyBody(), 400, "Request body is empty.", None),
    (
        errors.InvalidSchema(),
        400,
        "One or more required parameters are either not given or have invalid schema.",
        None,
    ),
    (errors.AlreadyExists("User"), 400, "User with the given identifier already exists.", None),
    (
        errors.AuthenticationFailed(),
        401,
        "Authorization header or OTP is either missing, invalid or expired.",
        None,
    ),
    (
        errors.TwoFactorRequired(),
        401,
        "Authorization header or OTP is either missing, invalid or expired.",
        {"is_2fa_enabled": True},
    ),
    (errors.InactiveUser(), 401, "Please activate your account to access the requested resource.", None),
    (errors.NoAccess(), 403, "You do not have access to the requested resource.", None),
    (errors.InsufficientCredits(), 403, "You do not have enough credits to perform this action.", None),
    (errors.NotFound("Transaction"), 404, "Transaction with the given identifier does not exist.", None),
    (errors.CreditsRateNotFound(), 404, "No credits rate found for the given amount.", None),
    (errors.RouteNotFound(), 404, "The requested route does not exist.", None),
    (errors.MethodNotAllowed(), 405, "The requested method is not allowed for this route.", None),
    (errors.TaskNotCancellable(), 409, "The task can no longer be cancelled.", None),
    (errors.RateLimitExceeded(), 429, "You have exceeded the rate limit.", None),
    (errors.SomethingWentWrong(), 500, "Something went wrong.", None),
]


@pytest.mark.parametrize(("error", "status", "message", "data"), CONTRACT_ROWS, ids=lambda v: type(v).__name__)
def test_each_contract_error_becomes_its_envelope(error: errors.ClaraError, status: int, message: str, data: object):
    response = failure(error)

    assert response.status_code == status
    assert json.loads(response.body) == {"data": data, "message": message, "status": "error"}


def test_rate_limit_tells_the_client_when_to_retry():
    response = failure(errors.RateLimitExceeded(retry_after_seconds=7))

    assert response.headers["Retry-After"] == "7"


def test_retry_after_is_never_below_one_second():
    assert errors.RateLimitExceeded(retry_after_seconds=0).headers["Retry-After"] == "1"
