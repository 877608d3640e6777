"""Login lockout, keyed on (account, client address), with a slower cap per account (ASVS 5.0 V6.3).

* An address that gets LOGIN_MAX_FAILURES_PER_ADDRESS wrong passwords for an account, each within
  LOGIN_LOCKOUT_MINUTES of the one before, is refused for that account until LOGIN_LOCKOUT_MINUTES after its
  last failure. The owner, from another address, still logs in: knowing an email no longer locks its owner out.
* Past LOGIN_MAX_FAILURES_PER_ACCOUNT_PER_HOUR failures in a clock hour, from any addresses, the account refuses
  every login until the hour ends, so guesses stay bounded however many addresses an attacker has.

Each counter is an item of its own under the user (sk LOGIN#ADDRESS#<address>, LOGIN#HOUR#<hour>, expired by
TTL), changed only by one atomic update, never read-then-written. The items carry the email index keys, so the
login's one Query returns them: that read (eventually consistent) refuses a locked login early, and the
transaction that would store a session repeats both checks as conditions on the items themselves (strongly
consistent), so no login succeeds while locked, however concurrent requests interleave.
"""

from dataclasses import dataclass
from typing import Any

from clara import dynamo
from clara.settings import get_settings

ADDRESS_SK = "LOGIN#ADDRESS#"
HOUR_SK = "LOGIN#HOUR#"


def counter_keys(user_id: str) -> list[tuple[str, str]]:
    """The keys of every login counter of the user (a password change clears them)."""
    items = dynamo.query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :login)",
        ExpressionAttributeValues=dynamo.values(pk=dynamo.user_pk(user_id), login="LOGIN#"),
        ProjectionExpression="pk, sk",
    )
    return [(item["pk"], item["sk"]) for item in items]


@dataclass(frozen=True)
class LoginGuard:
    """The lockout state of one login attempt: `counters` are the user's LOGIN# items as the login read them."""

    user_id: str
    email: str
    address: str
    now: float  # epoch seconds: the login's clock
    counters: dict[str, dynamo.Item]

    @property
    def _address_sk(self) -> str:
        return f"{ADDRESS_SK}{self.address}"

    @property
    def _hour(self) -> int:
        return int(self.now // 3600)

    @property
    def _hour_sk(self) -> str:
        return f"{HOUR_SK}{self._hour}"

    def _key(self, sk: str) -> dict[str, Any]:
        return dynamo.key(dynamo.user_pk(self.user_id), sk)

    def _window_open(self, item: dynamo.Item | None) -> bool:
        return item is not None and float(item.get("window_end", 0)) > self.now

    @property
    def locked(self) -> bool:
        """Locked as the login's read saw it (a hint that saves work; `success_operations` decide)."""
        settings = get_settings()
        by_address = self.counters.get(self._address_sk)
        in_window = int(by_address["attempts"]) if by_address is not None and self._window_open(by_address) else 0
        in_hour = int(self.counters.get(self._hour_sk, {}).get("attempts", 0))
        return (
            in_window >= settings.login_max_failures_per_address
            or in_hour >= settings.login_max_failures_per_account_per_hour
        )

    @property
    def window_open(self) -> bool:
        """Whether the address's failure window was open as the login read it."""
        return self._window_open(self.counters.get(self._address_sk))

    def failure_operations(self, window_open: bool) -> list[dict[str, Any]]:
        """The transaction operations that count one wrong password, as one atomic update of each counter.

        `window_open` picks the update: one more failure in the open window (which runs on from this one), or a
        new window of one. Each is conditional on that assumption, so a stale read cancels the transaction
        instead of losing a count; the caller retries with the other assumption.
        """
        window = get_settings().login_lockout_minutes * 60
        tagged = {"gsi1pk": dynamo.email_pk(self.email)}
        if window_open:
            address_update = "ADD attempts :one SET window_end = :end, expires_at = :end"
            address_condition = "window_end > :now"
        else:
            address_update = "SET attempts = :one, window_end = :end, expires_at = :end"
            address_condition = "attribute_not_exists(pk) OR window_end <= :now"
        hour_end = (self._hour + 1) * 3600
        return [
            {
                "Update": {
                    "TableName": dynamo.table(),
                    "Key": self._key(self._address_sk),
                    "UpdateExpression": f"{address_update}, gsi1pk = :gsi1pk, gsi1sk = :sk",
                    "ConditionExpression": address_condition,
                    "ExpressionAttributeValues": dynamo.values(
                        one=1, end=int(self.now) + window, now=self.now, sk=self._address_sk, **tagged
                    ),
                }
            },
            {
                "Update": {
                    "TableName": dynamo.table(),
                    "Key": self._key(self._hour_sk),
                    "UpdateExpression": "ADD attempts :one SET expires_at = :expires, gsi1pk = :gsi1pk, gsi1sk = :sk",
                    "ExpressionAttributeValues": dynamo.values(
                        one=1, expires=hour_end + 3600, sk=self._hour_sk, **tagged
                    ),
                }
            },
        ]

    def caps_reached_by_a_failure(self) -> list[str]:
        """Which caps one more failure reaches ("address", "account"), as the login read the counters: what the
        audit trail records as a lockout (concurrent failures may make it early or late by their number)."""
        settings = get_settings()
        by_address = self.counters.get(self._address_sk)
        seen = int(by_address["attempts"]) if by_address is not None and self.window_open else 0
        seen_in_hour = int(self.counters.get(self._hour_sk, {}).get("attempts", 0))
        reached = []
        if seen + 1 == settings.login_max_failures_per_address:
            reached.append("address")
        if seen_in_hour + 1 == settings.login_max_failures_per_account_per_hour:
            reached.append("account")
        return reached

    def success_operations(self) -> list[dict[str, Any]]:
        """Conditions for the transaction that stores a session: neither cap is reached (read strongly
        consistent, in the same transaction), and the address's count starts again."""
        settings = get_settings()
        return [
            {
                "Delete": {
                    "TableName": dynamo.table(),
                    "Key": self._key(self._address_sk),
                    "ConditionExpression": "attribute_not_exists(pk) OR attempts < :max OR window_end <= :now",
                    "ExpressionAttributeValues": dynamo.values(
                        max=settings.login_max_failures_per_address, now=self.now
                    ),
                }
            },
            {
                "ConditionCheck": {
                    "TableName": dynamo.table(),
                    "Key": self._key(self._hour_sk),
                    "ConditionExpression": "attribute_not_exists(pk) OR attempts < :max",
                    "ExpressionAttributeValues": dynamo.values(max=settings.login_max_failures_per_account_per_hour),
                }
            },
        ]
