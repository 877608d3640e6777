"""One cap on the emails that carry a code, per recipient and across code types: at most OTP_MAX_EMAILS_PER_HOUR
in each clock hour. The resend cooldown of clara.otp is per type; without this cap, three types and re-registrations
could still fill an inbox.

The count is one conditional ADD, written in the same transaction as the code it counts, so concurrent requests
cannot pass the cap together and a refused request stores nothing.
"""

import time
from typing import Any

from clara import dynamo
from clara.settings import get_settings

HOUR = 3600


def now() -> float:
    """The clock of the cap (one place, so tests can move it)."""
    return time.time()


def _key(email: str, now: float) -> dict[str, Any]:
    return dynamo.key(f"MAILCAP#{email}", str(int(now) // HOUR))


def count_code_email(email: str, now: float) -> dict[str, Any]:
    """The transaction operation that counts one code email to `email` at `now`; its condition fails at the cap."""
    return {
        "Update": {
            "TableName": dynamo.table(),
            "Key": _key(email, now),
            "UpdateExpression": "ADD emails :one SET expires_at = if_not_exists(expires_at, :expires)",
            "ConditionExpression": "attribute_not_exists(emails) OR emails < :cap",
            "ExpressionAttributeValues": dynamo.values(
                one=1, cap=get_settings().otp_max_emails_per_hour, expires=(int(now) // HOUR + 2) * HOUR
            ),
        }
    }


def refund_code_email(email: str, now: float) -> dict[str, Any]:
    """The operation that takes back the count of an email SES did not send (counted at `now`)."""
    return {
        "Update": {
            "TableName": dynamo.table(),
            "Key": _key(email, now),
            "UpdateExpression": "ADD emails :minus_one",
            "ConditionExpression": "emails > :zero",
            "ExpressionAttributeValues": dynamo.values(minus_one=-1, zero=0),
        }
    }


def seconds_until_next_hour(now: float) -> int:
    """The Retry-After of a request refused at the cap."""
    return max(1, int((int(now) // HOUR + 1) * HOUR - now) + 1)
