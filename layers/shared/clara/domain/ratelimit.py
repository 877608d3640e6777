"""The rate limit of docs/contract.md, Rate limit: a per-second counter in DynamoDB, shared by every Lambda instance."""

import time

from clara.contract.errors import RateLimitExceeded
from clara.settings import get_settings
from clara.store import counters


def count_request(subject: str) -> None:
    """Count one request of `subject` ("user#<id>" or "ip#<address>"); 429 past the limit of this second."""
    now = time.time()
    second = int(now)
    hits = counters.count_request(subject, second)
    if hits > get_settings().rate_limit_per_second:
        raise RateLimitExceeded(retry_after_seconds=max(1, round(second + 1 - now)))
