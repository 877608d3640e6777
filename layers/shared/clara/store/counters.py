"""Counters kept by atomic ADDs: the per-second rate limit and the hourly cap on code emails. Each counter item
expires by TTL once its period is over."""

from clara.store import unit
from clara.store.items import MailCapCounter, RateCounter


def count_request(subject: str, second: int) -> int:
    """One more request of `subject` in `second`: the count so far, this one included (one UpdateItem)."""
    counter = RateCounter(*RateCounter.key(subject, second))
    counter.update(actions=[RateCounter.hits.add(1), RateCounter.expires_at.set(RateCounter.expires_at | second + 60)])
    return int(counter.hits)


def count_code_email(email: str, hour: int, cap: int) -> unit.Write:
    """The write that counts one code email to `email` in `hour`; its condition fails at the cap."""
    counter = MailCapCounter(*MailCapCounter.key(email, hour))
    return unit.update(
        "mail_cap",
        counter,
        [MailCapCounter.emails.add(1), MailCapCounter.expires_at.set(MailCapCounter.expires_at | (hour + 2) * 3600)],
        MailCapCounter.emails.does_not_exist() | (MailCapCounter.emails < cap),
    )


def refund_code_email(email: str, hour: int) -> unit.Write:
    """The write that takes back the count of an email SES did not send."""
    counter = MailCapCounter(*MailCapCounter.key(email, hour))
    return unit.update("mail_cap_refund", counter, [MailCapCounter.emails.add(-1)], MailCapCounter.emails > 0)
