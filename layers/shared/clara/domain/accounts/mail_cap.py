"""One cap on the emails that carry a code, per recipient and across code types: at most OTP_MAX_EMAILS_PER_HOUR
in each clock hour. The resend cooldown of clara.domain.accounts.otp is per type; without this cap, three types and
re-registrations could still fill an inbox.

The count is one conditional ADD, written in the same transaction as the code it counts, so concurrent requests
cannot pass the cap together and a refused request stores nothing.
"""

import time

from clara.settings import get_settings
from clara.store import counters, unit

HOUR = 3600


def now() -> float:
    """The clock of the cap (one place, so tests can move it)."""
    return time.time()


def count_code_email(email: str, now: float) -> unit.Write:
    """The write that counts one code email to `email` at `now`; its condition fails at the cap."""
    return counters.count_code_email(email, int(now) // HOUR, get_settings().otp_max_emails_per_hour)


def refund_code_email(email: str, now: float) -> unit.Write:
    """The write that takes back the count of an email SES did not send (counted at `now`)."""
    return counters.refund_code_email(email, int(now) // HOUR)


def seconds_until_next_hour(now: float) -> int:
    """The Retry-After of a request refused at the cap."""
    return max(1, int((int(now) // HOUR + 1) * HOUR - now) + 1)
