"""Warm handler time per request without the time spent inside AWS calls (docs/budgets.md: median under 2 ms), and
the login at the production bcrypt cost (docs/budgets.md, Login: one bcrypt check and nothing else slow).

Each request's time is that of the real lambda_handler call minus the time its botocore calls took (moto's
work and botocore's own), and minus bcrypt's for logins, whose check is slow by design and budgeted apart.
"""

import platform
import statistics
import time

from bench.scenarios import LOGIN_AT_COST_12, SCENARIOS, Scenario, User, fresh_user
from bench.table import NOT_MEASURED, Row, verdict

WARMUP, RUNS = 20, 200
BUDGET = 0.002  # seconds: the median of a warm request's own work
LOGINS = 5  # at cost 12, each about 0.25 s


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def measure(user: User, scenario: Scenario, warmup: int, runs: int) -> list[tuple[float, float, float, int]]:
    """(whole request, inside AWS calls, inside bcrypt, bcrypt checks) of each of `runs` requests after `warmup`."""
    harness, found = user.harness, []
    for index in range(warmup + runs):
        invocation = scenario.prepare(user)  # building the event is the client's and API Gateway's work: not timed
        harness.aws.reset()
        harness.bcrypt.reset()
        started = time.perf_counter()
        result = invocation()
        elapsed = time.perf_counter() - started
        if not scenario.ok(result):
            raise RuntimeError(f"{scenario.name} did not succeed: {str(result)[:300]}")
        if index >= warmup:
            found.append((elapsed, harness.aws.seconds, harness.bcrypt.seconds, len(harness.bcrypt.calls)))
    return found


def measured(scenario: Scenario, warmup: int, runs: int) -> list[tuple[float, float, float, int]]:
    with fresh_user() as user:
        scenario.setup(user, warmup + runs)
        return measure(user, scenario, warmup, runs)


def rows() -> list[Row]:
    section = (
        f"Warm handler time per request, time inside AWS calls (and bcrypt) left out: {RUNS} requests after "
        f"{WARMUP} warm-up, in-process on moto, Python {platform.python_version()}"
    )
    found = []
    for scenario in SCENARIOS:
        try:
            samples = [total - aws - checks for total, aws, checks, _ in measured(scenario, WARMUP, RUNS)]
        except Exception as error:  # one broken request should not hide the other figures
            found.append(Row(section, scenario.name, f"failed: {error}"[:100], "median < 2 ms", NOT_MEASURED))
            continue
        median, p99 = statistics.median(samples), statistics.quantiles(samples, n=100, method="inclusive")[98]
        figure = f"median {ms(median)}, p99 {ms(p99)}"
        found.append(Row(section, scenario.name, figure, "median < 2 ms", verdict(median < BUDGET)))
    return [*found, login_row()]


def login_row() -> Row:
    section = f"Login at bcrypt cost 12 (production's), median of {LOGINS} after 1 warm-up, in-process on moto"
    budget = "1 bcrypt check (~240 ms), rest < 2 ms"
    try:
        samples = measured(LOGIN_AT_COST_12, 1, LOGINS)
    except Exception as error:
        return Row(section, LOGIN_AT_COST_12.name, f"failed: {error}"[:100], budget, NOT_MEASURED)
    total, aws, bcrypt = (statistics.median(sample[i] for sample in samples) for i in range(3))
    checks = max(sample[3] for sample in samples)
    rest = statistics.median(t - a - b for t, a, b, _ in samples)
    figure = f"{ms(total)} = {checks} bcrypt check {ms(bcrypt)} + AWS {ms(aws)} + rest {ms(rest)}"
    return Row(section, LOGIN_AT_COST_12.name, figure, budget, verdict(checks == 1 and rest < BUDGET))
