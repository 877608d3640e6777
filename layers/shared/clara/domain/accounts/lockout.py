"""Login lockout, keyed on (account, client address), with a slower cap per account (ASVS 5.0 V6.3).

* An address that gets LOGIN_MAX_FAILURES_PER_ADDRESS wrong passwords for an account, each within
  LOGIN_LOCKOUT_MINUTES of the one before, is refused for that account until LOGIN_LOCKOUT_MINUTES after its
  last failure. The owner, from another address, still logs in: knowing an email no longer locks its owner out.
* Past LOGIN_MAX_FAILURES_PER_ACCOUNT_PER_HOUR failures in a clock hour, from any addresses, the account refuses
  every login until the hour ends, so guesses stay bounded however many addresses an attacker has.

Each counter is an item of its own under the user (one per address, one per clock hour: clara.store.counters;
expired by TTL), changed only by one atomic update, never read-then-written. The items carry the email index
keys, so the login's one Query returns them: that read (eventually consistent) refuses a locked login early, and the
transaction that would store a session repeats both checks as conditions on the items themselves (strongly
consistent), so no login succeeds while locked, however concurrent requests interleave.
"""

from dataclasses import dataclass

from clara.records.accounts import LoginCount, LoginCounters
from clara.settings import get_settings
from clara.store import counters, unit

counter_keys = counters.login_counter_keys  # every login counter of a user (a password change clears them)
REFUSED_BY = (counters.LOGIN_ADDRESS, counters.LOGIN_HOUR)  # the writes of success_writes, by name


@dataclass(frozen=True)
class LoginGuard:
    """The lockout state of one login attempt: `counters` are the user's counters as the login read them."""

    user_id: str
    email: str
    address: str
    now: float  # epoch seconds: the login's clock
    counters: LoginCounters

    @property
    def _hour(self) -> int:
        return int(self.now // 3600)

    @property
    def _by_address(self) -> LoginCount | None:
        return self.counters.by_address.get(self.address)

    @property
    def _in_hour(self) -> int:
        by_hour = self.counters.by_hour.get(self._hour)
        return by_hour.attempts if by_hour is not None else 0

    def _window_open(self, count: LoginCount | None) -> bool:
        return count is not None and count.window_end > self.now

    @property
    def locked(self) -> bool:
        """Locked as the login's read saw it (a hint that saves work; `success_writes` decide)."""
        settings = get_settings()
        by_address = self._by_address
        in_window = by_address.attempts if by_address is not None and self._window_open(by_address) else 0
        return (
            in_window >= settings.login_max_failures_per_address
            or self._in_hour >= settings.login_max_failures_per_account_per_hour
        )

    @property
    def window_open(self) -> bool:
        """Whether the address's failure window was open as the login read it."""
        return self._window_open(self._by_address)

    def failure_writes(self, window_open: bool) -> tuple[unit.Write, unit.Write]:
        """The writes that count one wrong password, as one atomic update of each counter.

        `window_open` picks the update: one more failure in the open window (which runs on from this one), or a
        new window of one. Each is conditional on that assumption, so a stale read is refused (as
        counters.LOGIN_ADDRESS) instead of losing a count; the caller retries with the other assumption.
        """
        window = get_settings().login_lockout_minutes * 60
        return counters.count_login_failure(
            self.user_id,
            self.email,
            self.address,
            self._hour,
            now=self.now,
            window_end=int(self.now) + window,
            window_open=window_open,
        )

    def caps_reached_by_a_failure(self) -> list[str]:
        """Which caps one more failure reaches ("address", "account"), as the login read the counters: what the
        audit trail records as a lockout (concurrent failures may make it early or late by their number)."""
        settings = get_settings()
        by_address = self._by_address
        seen = by_address.attempts if by_address is not None and self.window_open else 0
        reached = []
        if seen + 1 == settings.login_max_failures_per_address:
            reached.append("address")
        if self._in_hour + 1 == settings.login_max_failures_per_account_per_hour:
            reached.append("account")
        return reached

    def success_writes(self) -> tuple[unit.Write, unit.Write]:
        """Conditions for the unit that stores a session: neither cap is reached (read strongly consistent, in
        the same unit; refused as one of REFUSED_BY), and the address's count starts again."""
        settings = get_settings()
        return counters.login_allowed(
            self.user_id,
            self.address,
            self._hour,
            now=self.now,
            max_per_address=settings.login_max_failures_per_address,
            max_per_hour=settings.login_max_failures_per_account_per_hour,
        )
