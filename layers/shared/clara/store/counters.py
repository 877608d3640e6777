"""Counters kept by atomic updates: the per-second rate limit, the hourly cap on code emails, the login
failures (clara.domain.accounts.lockout) and the second-factor tries per client address (clara.domain.accounts.totp).
Each counter item expires by TTL once its period is over."""

import json

from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.constants import (
    ATTRIBUTES,
    CONDITION_EXPRESSION,
    EXPRESSION_ATTRIBUTE_NAMES,
    EXPRESSION_ATTRIBUTE_VALUES,
    KEY,
    NUMBER,
    RETURN_VALUES,
    STRING,
    TABLE_NAME,
    UPDATE_EXPRESSION,
    UPDATE_ITEM,
    UPDATED_NEW,
)
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from clara.settings import get_settings
from clara.store import unit
from clara.store.items import LoginCounter, MailCapCounter, RateCounter, email_pk, user_pk
from clara.store.table import TableItem, query_every_kind, raw_key


def count_request(subject: str, second: int) -> int:
    """One more request of `subject` in `second`: the count so far, this one included (one UpdateItem). Every
    authenticated request makes it, so its UpdateItem is written out once here rather than built by PynamoDB from
    expression objects on each call (about a sixth of a warm read's own time); it goes through PynamoDB's
    connection all the same, which raises what it raises for any other update."""
    connection = TableItem._get_connection()
    pk, sk = RateCounter.key(subject, second)
    hits, expires_at = RateCounter.hits.attr_name, RateCounter.expires_at.attr_name
    operation = {
        TABLE_NAME: connection.table_name,
        KEY: {RateCounter.pk.attr_name: {STRING: pk}, RateCounter.sk.attr_name: {STRING: sk}},
        UPDATE_EXPRESSION: "ADD #hits :one SET #expires_at = if_not_exists(#expires_at, :expires_at)",
        EXPRESSION_ATTRIBUTE_NAMES: {"#hits": hits, "#expires_at": expires_at},
        EXPRESSION_ATTRIBUTE_VALUES: {":one": {NUMBER: "1"}, ":expires_at": {NUMBER: str(second + 60)}},
        RETURN_VALUES: UPDATED_NEW,
    }
    try:
        answer = connection.connection.dispatch(UPDATE_ITEM, operation)
    except BOTOCORE_EXCEPTIONS as error:
        raise UpdateError(f"Failed to update item: {error}", error) from error
    return int(answer[ATTRIBUTES][hits][NUMBER])


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


# ------------------------------------------------------------------------------------------- login failures

# Names of the writes of the login counters, as Refused.reasons gives them.
LOGIN_ADDRESS = "login_address"
LOGIN_HOUR = "login_hour"


def login_counter_keys(user_id: str) -> list[tuple[str, str]]:
    """The keys of every login counter of the user, to delete them (clara.store.users.delete_items)."""
    items = query_every_kind(
        user_pk(user_id),
        TableItem.from_raw_data,
        range_key_condition=TableItem.sk.startswith(LoginCounter.PREFIX),
        attributes_to_get=["pk", "sk"],
    )
    return [(item.pk, item.sk) for item in items]


def count_login_failure(
    user_id: str, email: str, address: str, hour: int, *, now: float, window_end: int, window_open: bool
) -> tuple[unit.Write, unit.Write]:
    """The writes that count one failed login: on the address's counter (one more in its open window, refused as
    LOGIN_ADDRESS if it has closed; or a new window of one, refused if one is open) and on the hour's. Both
    carry the email index keys, so the login's query finds them."""
    by_address = LoginCounter(*LoginCounter.by_address(user_id, address))
    by_hour = LoginCounter(*LoginCounter.by_hour(user_id, hour))
    gsi1pk = email_pk(email)
    first: Action
    if window_open:
        first = LoginCounter.attempts.add(1)
        condition = LoginCounter.window_end > now
    else:
        first = LoginCounter.attempts.set(1)
        condition = LoginCounter.pk.does_not_exist() | (LoginCounter.window_end <= now)
    address_actions = [
        first,
        LoginCounter.window_end.set(window_end),
        LoginCounter.expires_at.set(window_end),
        LoginCounter.gsi1pk.set(gsi1pk),
        LoginCounter.gsi1sk.set(by_address.sk),
    ]
    hour_actions = [
        LoginCounter.attempts.add(1),
        LoginCounter.expires_at.set((hour + 2) * 3600),
        LoginCounter.gsi1pk.set(gsi1pk),
        LoginCounter.gsi1sk.set(by_hour.sk),
    ]
    return (
        unit.update(LOGIN_ADDRESS, by_address, address_actions, condition),
        unit.update(LOGIN_HOUR, by_hour, hour_actions),
    )


def login_allowed(
    user_id: str, address: str, hour: int, *, now: float, max_per_address: int, max_per_hour: int
) -> tuple[unit.Write, unit.Write]:
    """The writes that hold a login to the caps, read strongly consistent in its unit: the address's count
    starts again unless it is at its cap in an open window (refused as LOGIN_ADDRESS), and the hour's count is
    below its cap (refused as LOGIN_HOUR). Every login makes both, so they are written out once here rather than
    built by PynamoDB from expression objects on each call (about a tenth of a login's own time)."""
    table = get_settings().table_name
    names = {
        "#pk": LoginCounter.pk.attr_name,
        "#attempts": LoginCounter.attempts.attr_name,
        "#window_end": LoginCounter.window_end.attr_name,
    }
    address_condition = {
        CONDITION_EXPRESSION: "attribute_not_exists (#pk) OR #attempts < :cap OR #window_end <= :now",
        EXPRESSION_ATTRIBUTE_NAMES: names,
        # As NumberAttribute writes a number (json).
        EXPRESSION_ATTRIBUTE_VALUES: {":cap": {NUMBER: json.dumps(max_per_address)}, ":now": {NUMBER: json.dumps(now)}},
    }
    hour_condition = {
        CONDITION_EXPRESSION: "attribute_not_exists (#pk) OR #attempts < :cap",
        EXPRESSION_ATTRIBUTE_NAMES: {name: names[name] for name in ("#pk", "#attempts")},
        EXPRESSION_ATTRIBUTE_VALUES: {":cap": {NUMBER: json.dumps(max_per_hour)}},
    }
    by_address, by_hour = LoginCounter.by_address(user_id, address), LoginCounter.by_hour(user_id, hour)
    return (
        unit.Write(LOGIN_ADDRESS, {"Delete": {TABLE_NAME: table, KEY: raw_key(*by_address), **address_condition}}),
        unit.Write(LOGIN_HOUR, {"ConditionCheck": {TABLE_NAME: table, KEY: raw_key(*by_hour), **hour_condition}}),
    )


# ------------------------------------------------------------------------------------------- second-factor tries

CODE_TRIES = "code_tries"  # the name of clear_code_tries's write


def take_code_try(user_id: str, address: str, window: int, *, max_tries: int, expires_at: int) -> bool:
    """Count one second-factor try from `address` in attempt window `window` (one conditional UpdateItem):
    False, with nothing counted, when the address has spent its `max_tries` in this window. Each window is an
    item of its own, so a new window needs no reset, and concurrent tries cannot share a count."""
    counter = LoginCounter(*LoginCounter.code_tries(user_id, address, window))
    try:
        counter.update(
            actions=[LoginCounter.attempts.add(1), LoginCounter.expires_at.set(expires_at)],
            condition=LoginCounter.attempts.does_not_exist() | (LoginCounter.attempts < max_tries),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def clear_code_tries(user_id: str, address: str, window: int) -> unit.Write:
    """The write that starts the address's count again: a right code proved that address."""
    return unit.delete(CODE_TRIES, LoginCounter(*LoginCounter.code_tries(user_id, address, window)))
