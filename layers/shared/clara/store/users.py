"""Users: the user item and the reservation of its email, the reads that bring a user with its other items (a
credential for authentication, its codes and login counters for a login), the listing of every user, and
erasure.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from clara.records.accounts import ApiKey, LoginCount, LoginCounters, Otp, Session, User, UserRecords
from clara.settings import get_settings
from clara.store import unit
from clara.store.items import (
    ApiKeyItem,
    EmailItem,
    LoginCounter,
    OtpItem,
    SessionItem,
    UserItem,
    typed_values,
    user_pk,
)
from clara.store.table import TableItem, batch_get_raw, client, newest_first, query_every_kind

# Names of the writes of a new account, as Refused.reasons gives them.
EMAIL = "email"
USER = "user"

Key = tuple[str, str]


def user_from_item(item: UserItem) -> User:
    return User.model_validate(item.stored_values())


def user_item(user: User) -> UserItem:
    email_key, listing = UserItem.by_email_key(user.email), UserItem.listing()
    return UserItem(
        *UserItem.key(user.id),
        gsi1pk=email_key[0],
        gsi1sk=email_key[1],
        gsi2pk=listing,
        gsi2sk=f"{user.created_at.isoformat()}#{user.id}",
        **user.model_dump(exclude_none=True),
    )


# ------------------------------------------------------------------------------------------- writes


def create_user(user: User) -> tuple[unit.Write, unit.Write]:
    """The writes of a new account: its email's reservation (refused as EMAIL when the address is taken) and the
    user item (refused as USER when the id exists)."""
    reservation = EmailItem(*EmailItem.key(user.email), user_id=user.id)
    return (
        unit.put(EMAIL, reservation, EmailItem.pk.does_not_exist()),
        unit.put(USER, user_item(user), UserItem.pk.does_not_exist()),
    )


def update_user(
    user_id: str,
    changes: Mapping[str, Any],
    *,
    now: datetime,
    removed: Iterable[str] = (),
    added: Mapping[str, int] | None = None,
) -> unit.Write:
    """The write that sets each of `changes` (and updated_at) on an existing user (refused as USER when there is
    none), removes the `removed` fields and adds to the `added` counters."""
    attributes = UserItem.get_attributes()
    actions: list[Any] = [attributes[name].set(value) for name, value in {**changes, "updated_at": now}.items()]
    actions += [attributes[name].remove() for name in removed]
    actions += [attributes[name].add(value) for name, value in (added or {}).items()]
    return unit.update(USER, UserItem(*UserItem.key(user_id)), actions, UserItem.pk.exists())


def delete_items(keys: list[Key]) -> None:
    """Delete the items of `keys` (BatchWriteItem, 25 at a time, until none is left unprocessed)."""
    table = get_settings().table_name
    for start in range(0, len(keys), 25):
        batch = keys[start : start + 25]
        request: dict[str, Any] = {
            table: [{"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}} for pk, sk in batch]
        }
        while request:
            request = client().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def erasure_keys(user_id: str, email: str) -> list[Key]:
    """Every item stored under the user (sessions, codes, keys, transactions, tasks, audit...), and its email's
    reservation: what erasing the user (or undoing its registration) deletes."""
    items = query_every_kind(
        user_pk(user_id),
        TableItem.from_raw_data,
        consistent_read=True,  # an erasure must see items written a moment ago (an undone registration's)
        attributes_to_get=["pk", "sk"],
    )
    return [(item.pk, item.sk) for item in items] + [EmailItem.key(email)]


# ------------------------------------------------------------------------------------------- reads


def get_user(user_id: str) -> User | None:
    try:
        return user_from_item(UserItem.get(*UserItem.key(user_id), consistent_read=True))
    except UserItem.DoesNotExist:
        return None


def get_user_with(user_id: str, *, session_id: str | None = None, api_key: bool = False) -> UserRecords | None:
    """The user with a session or its API key, in one BatchGetItem round trip (strongly consistent)."""
    keys = [UserItem.key(user_id)]
    if session_id is not None:
        keys.append(SessionItem.key(user_id, session_id))
    if api_key:
        keys.append(ApiKeyItem.key(user_id))
    return _records(map(typed_values, batch_get_raw(keys, consistent_read=True)))


def find_by_email(email: str) -> UserRecords | None:
    """The user, its live OTPs and login counters in one Query of the email index (eventually consistent)."""
    return _records(query_every_kind(UserItem.by_email_key(email)[0], typed_values, index_name="gsi1"))


def list_users(limit: int, offset: int) -> list[User]:
    return [User.model_validate(values) for values in newest_first(UserItem, UserItem.listing(), limit, offset)]


def _records(items: Iterable[tuple[type[TableItem], dict[str, Any]]]) -> UserRecords | None:
    """The user's records from its items' classes and values (items.typed_values): no model is built per item."""
    user: User | None = None
    otps: dict[str, Otp] = {}
    counters = LoginCounters()
    records: dict[str, Any] = {}
    for item_class, values in items:
        if item_class is UserItem:
            user = User.model_validate(values)
        elif item_class is OtpItem:
            otps[values["type"]] = Otp.model_validate(values)
        elif item_class is SessionItem:
            records["session"] = Session.model_validate(values)
        elif item_class is ApiKeyItem:
            records["api_key"] = ApiKey.model_validate(values)
        elif item_class is LoginCounter:
            count = LoginCount(attempts=int(values.get("attempts") or 0), window_end=values.get("window_end") or 0)
            sk = values["sk"]
            if sk.startswith(LoginCounter.ADDRESS):
                counters.by_address[sk.removeprefix(LoginCounter.ADDRESS)] = count
            elif sk.startswith(LoginCounter.HOUR):
                counters.by_hour[int(sk.removeprefix(LoginCounter.HOUR))] = count
    if user is None:
        return None
    return UserRecords(user=user, otps=otps, login_counters=counters, **records)
