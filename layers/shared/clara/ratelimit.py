"""The rate limit of docs/contract.md, Rate limit: a per-second counter in DynamoDB, shared by every Lambda instance."""

import time

from clara import dynamo
from clara.errors import RateLimitExceeded
from clara.settings import get_settings


def count_request(subject: str) -> None:
    """Count one request of `subject` ("user#<id>" or "ip#<address>"); 429 past the limit of this second."""
    now = time.time()
    second = int(now)
    response = dynamo.client().update_item(
        TableName=dynamo.table(),
        Key=dynamo.key(f"RATE#{subject}", str(second)),
        UpdateExpression="ADD hits :one SET expires_at = if_not_exists(expires_at, :expires)",
        ExpressionAttributeValues=dynamo.values(one=1, expires=second + 60),
        ReturnValues="UPDATED_NEW",
    )
    if int(response["Attributes"]["hits"]["N"]) > get_settings().rate_limit_per_second:
        raise RateLimitExceeded(retry_after_seconds=max(1, round(second + 1 - now)))
