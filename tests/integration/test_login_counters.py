"""The conditions of clara.store.counters.login_allowed on the emulated table: the race guard of a login at the
caps. The login reads the counters first and refuses at a cap itself; these conditions refuse what a concurrent
failure pushed over the cap between that read and the login's unit, so they are tested on their own here."""

import pytest

from clara.store import counters, unit
from clara.store.counters import LOGIN_ADDRESS, LOGIN_HOUR
from clara.store.items import LoginCounter
from clara.store.table import get_values

USER, ADDRESS, HOUR, NOW = "u1", "203.0.113.9", 490_000, 1_000_000.0


def set_counters(by_address: int, window_end: float, by_hour: int) -> None:
    LoginCounter(*LoginCounter.by_address(USER, ADDRESS)).update(
        actions=[LoginCounter.attempts.set(by_address), LoginCounter.window_end.set(window_end)]
    )
    LoginCounter(*LoginCounter.by_hour(USER, HOUR)).update(actions=[LoginCounter.attempts.set(by_hour)])


def refusals() -> set[str]:
    """The writes of a login's unit that were refused (none: the login went through)."""
    writes = counters.login_allowed(USER, ADDRESS, HOUR, now=NOW, max_per_address=5, max_per_hour=100)
    try:
        unit.commit(*writes)
    except unit.Refused as refusal:
        return {name for name in (LOGIN_ADDRESS, LOGIN_HOUR) if refusal.failed(name)}
    return set()


def test_a_login_with_no_failures_counted_goes_through(stack):
    assert refusals() == set()


@pytest.mark.parametrize(
    ("by_address", "window_end", "by_hour", "refused"),
    [
        (4, NOW + 60, 99, set()),  # below both caps
        (5, NOW + 60, 99, {LOGIN_ADDRESS}),  # the address at its cap in an open window
        (5, NOW, 99, set()),  # ... whose window ended now: the count starts again
        (0, NOW + 60, 100, {LOGIN_HOUR}),  # the hour at its cap
        (6, NOW + 60, 120, {LOGIN_ADDRESS, LOGIN_HOUR}),
    ],
)
def test_a_login_over_a_cap_is_refused_by_that_caps_condition(stack, by_address, window_end, by_hour, refused):
    set_counters(by_address, window_end, by_hour)

    assert refusals() == refused


def test_a_login_that_goes_through_starts_the_address_count_again(stack):
    set_counters(4, NOW + 60, 99)

    assert refusals() == set()
    assert get_values(LoginCounter, LoginCounter.by_address(USER, ADDRESS), consistent_read=True) is None
    assert get_values(LoginCounter, LoginCounter.by_hour(USER, HOUR), consistent_read=True) == {
        "pk": "USER#u1", "sk": f"{LoginCounter.HOUR}{HOUR}", "attempts": 99,
    }  # fmt: skip
