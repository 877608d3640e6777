"""`make run`'s mailbox over a long session: the emails keep landing at once and the API keeps its speed.

The mailbox used to poll moto's whole state (`/moto-api/data.json`) twice a second; the state grows with every
request, so after a few hundred a poll took seconds, emails were late and every request slowed with it.
"""

import statistics
import time

from harness.client import FETCHED, WELCOME_SUBJECT, Account, Api, Mailbox, expect, fetch, register

REGISTRATIONS = 150
READS_PER_REGISTRATION = 4  # 600 reads in all
ARRIVAL_TIMEOUT = 5.0  # seconds from the 201 of a registration to its email in the folder


def median_read_seconds(api: Api, account: Account, count: int = 30) -> float:
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        expect(fetch(api, account), 200, FETCHED)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def test_after_600_reads_and_150_registrations_reads_are_as_fast_and_every_email_lands_at_once(
    api: Api, mailbox: Mailbox
):
    reader = register(api, "reader")
    mailbox.next_email(reader.email, WELCOME_SUBJECT)
    median_read_seconds(api, reader, 5)  # warm
    first = median_read_seconds(api, reader)

    arrivals = []
    for index in range(REGISTRATIONS):
        account = register(api, f"load-{index}")
        registered = time.monotonic()
        mailbox.next_email(account.email, WELCOME_SUBJECT, timeout=ARRIVAL_TIMEOUT)
        arrivals.append(time.monotonic() - registered)
        for _ in range(READS_PER_REGISTRATION):
            expect(fetch(api, reader), 200, FETCHED)
    later = median_read_seconds(api, reader)

    assert later <= 1.5 * first, f"reads slowed from {first * 1000:.1f} ms to {later * 1000:.1f} ms"
    assert max(arrivals) < ARRIVAL_TIMEOUT, f"the slowest email took {max(arrivals):.2f} s"
    print(f"reads {first * 1000:.1f} ms -> {later * 1000:.1f} ms; emails within {max(arrivals) * 1000:.0f} ms")
