"""Every item type of the table, with its keys. The key formats live here and nowhere else.

pk = USER#<user id>      sk = USER | SESSION#<id> | OTP#<type> | API_KEY | TRANSACTION#<id> | TASK#<id>
                              | TOTP | TOTP#PENDING | AUDIT#<time>#<id> | LOGIN#ADDRESS#<ip> | LOGIN#HOUR#<hour>
                              | LOGIN#CODE#<window>#<ip> | NOTICE#<id> | IDEMPOTENCY#ANALYSIS#<sha256 of the key>
                              | WEBHOOKS | WEBHOOK#<id> | WEBHOOK_EVENT#<id> | DELIVERY#<webhook id>#<time>#<id>
gsi1: EMAIL#<email> / USER | OTP#<type> | LOGIN#ADDRESS#... | LOGIN#HOUR#...  (what a login reads in one query)
gsi1: OPEN_TASKS#<shard> | NOTICES | WEBHOOK_EVENTS / <created at>#<id>  (the sweeper's sparse listings)
gsi2: USERS / <created at>#<id>                        (every user, newest first)
pk = EMAIL#<email>       sk = EMAIL                (reserves an address: uniqueness by condition)
pk = AUDIT#<day>         sk = AUDIT#<time>#<id>    (events of no user)
pk = RATE#<subject>      sk = <second>             (rate-limit counters, expired by TTL)
pk = MAILCAP#<email>     sk = <hour>               (code emails per hour, expired by TTL)
"""

import hashlib
from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from clara.store.table import DecimalAttribute, DocumentAttribute, IsoDateTimeAttribute, TableItem

USER_SK = "USER"
API_KEY_SK = "API_KEY"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def email_pk(email: str) -> str:
    return f"EMAIL#{email}"


class UserItem(TableItem, discriminator="user"):
    """The account. gsi1 finds it by email (with its codes and login counters); gsi2 lists users newest first."""

    id = UnicodeAttribute()
    email = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=False)
    is_2fa_enabled = BooleanAttribute(default=False)
    two_factor_method = UnicodeAttribute(null=True)
    recovery_codes_left = NumberAttribute(null=True)
    is_dark_mode = BooleanAttribute(default=True)
    credits = DecimalAttribute()
    stripe_customer_id = UnicodeAttribute(null=True)
    google_user_id = UnicodeAttribute(null=True)
    created_at = IsoDateTimeAttribute()
    updated_at = IsoDateTimeAttribute()

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return user_pk(user_id), USER_SK

    @staticmethod
    def by_email_key(email: str) -> tuple[str, str]:
        return email_pk(email), USER_SK

    @staticmethod
    def listing() -> str:
        return "USERS"


class EmailItem(TableItem, discriminator="email"):
    """An address taken by a user: written with the user, on the condition that it does not exist yet."""

    user_id = UnicodeAttribute()

    @staticmethod
    def key(email: str) -> tuple[str, str]:
        return email_pk(email), "EMAIL"


class SessionItem(TableItem, discriminator="session"):
    """A signed-in session; the user token names it, and logging out deletes it. Expired by TTL."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key(user_id: str, session_id: str) -> tuple[str, str]:
        return user_pk(user_id), f"SESSION#{session_id}"

    @staticmethod
    def sk_prefix() -> str:
        return "SESSION#"


class OtpItem(TableItem, discriminator="otp"):
    """A one-time code (its HMAC), one per (user, type); gsi1 brings it with the user to the login. Expired by
    TTL."""

    user_id = UnicodeAttribute()
    type = UnicodeAttribute()
    code_hash = UnicodeAttribute()
    expires_at = NumberAttribute()
    sent_at = NumberAttribute()
    attempts = NumberAttribute(null=True)

    @staticmethod
    def key(user_id: str, otp_type: str) -> tuple[str, str]:
        return user_pk(user_id), f"OTP#{otp_type}"

    @staticmethod
    def by_email_key(email: str, otp_type: str) -> tuple[str, str]:
        return email_pk(email), f"OTP#{otp_type}"


class TotpPendingItem(TableItem, discriminator="totp_pending"):
    """An authenticator-app enrolment waiting for its first code (the secret encrypted). Expired by TTL."""

    secret_ciphertext = UnicodeAttribute()
    expires_at = NumberAttribute()
    attempts = NumberAttribute(null=True)

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return user_pk(user_id), "TOTP#PENDING"


class TotpItem(TableItem, discriminator="totp"):
    """The confirmed authenticator app: the secret (encrypted), the last time step used, the recovery codes'
    HMACs (a map of hash to true, so one is used by removing its entry), and the account's ceilings on tries in
    the current clock hour: app codes (attempts in attempt_window) and recovery codes, counted apart."""

    secret_ciphertext = UnicodeAttribute()
    last_step = NumberAttribute()
    recovery_codes: MapAttribute[str, Any] = MapAttribute(null=True)
    attempts = NumberAttribute(null=True)
    attempt_window = NumberAttribute(null=True)
    recovery_attempts = NumberAttribute(null=True)
    recovery_window = NumberAttribute(null=True)

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return user_pk(user_id), "TOTP"


class LoginCounter(TableItem):
    """Failed logins of a user: from one client address (within a window), or in one clock hour; and the tries of
    second-factor codes from one client address in one window. No `kind`: only ever written by upserts. gsi1
    brings the login failures with the user to the login. Expired by TTL."""

    attempts = NumberAttribute(null=True)
    window_end = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)

    PREFIX = "LOGIN#"
    ADDRESS = "LOGIN#ADDRESS#"
    HOUR = "LOGIN#HOUR#"
    CODE = "LOGIN#CODE#"

    @staticmethod
    def by_address(user_id: str, address: str) -> tuple[str, str]:
        return user_pk(user_id), f"{LoginCounter.ADDRESS}{address}"

    @staticmethod
    def by_hour(user_id: str, hour: int) -> tuple[str, str]:
        return user_pk(user_id), f"{LoginCounter.HOUR}{hour}"

    @staticmethod
    def code_tries(user_id: str, address: str, window: int) -> tuple[str, str]:
        return user_pk(user_id), f"{LoginCounter.CODE}{window}#{address}"


def typed_values(raw: dict[str, Any]) -> tuple[type[TableItem], dict[str, Any]]:
    """A raw item (DynamoDB's attribute map) as its class, by `kind` or for a login counter by its key, and its
    values (TableItem.values_from_raw)."""
    if "kind" in raw:
        item_class: type[TableItem] = TableItem.kind.deserialize(raw["kind"]["S"])
    elif raw.get("sk", {}).get("S", "").startswith(LoginCounter.PREFIX):
        item_class = LoginCounter
    else:
        item_class = TableItem
    return item_class, item_class.values_from_raw(raw)


class NoticeItem(TableItem, discriminator="notice"):
    """A security notice waiting to be emailed, written in the unit of the change it tells of and deleted once
    sent. Until then it is in the sparse listing of gsi1 (gsi1pk = NOTICES, gsi1sk = <created_at>#<id>) that the
    sweeper reads, as open tasks are; gsi1 otherwise finds items by email, which never is "NOTICES". Expired by
    TTL a day after it was written, so an address SES keeps refusing is not tried for ever."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    change = UnicodeAttribute()
    email = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    created_at = IsoDateTimeAttribute()
    expires_at = NumberAttribute()

    LISTING = "NOTICES"

    @staticmethod
    def key(user_id: str, notice_id: str) -> tuple[str, str]:
        return user_pk(user_id), f"NOTICE#{notice_id}"


class ApiKeyItem(TableItem, discriminator="api_key"):
    """The user's one API key; the API key token names its id, so a reset revokes the old token."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created_at = IsoDateTimeAttribute()
    updated_at = IsoDateTimeAttribute()

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return user_pk(user_id), API_KEY_SK


class AuditItem(TableItem, discriminator="audit"):
    """A security event (never a secret). A user's events live with the user and go with it; others by day."""

    event = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    source_ip = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    details = DocumentAttribute(default=dict)

    @staticmethod
    def partition(user_id: str | None, day: str) -> str:
        return user_pk(user_id) if user_id else f"AUDIT#{day}"

    @staticmethod
    def sort_key(created_at: str, audit_id: str) -> str:
        return f"AUDIT#{created_at}#{audit_id}"


class TransactionItem(TableItem, discriminator="transaction"):
    """One immutable change of the balance, under a deterministic id (a replay finds it). gsi2 lists a user's
    transactions newest first."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    type = UnicodeAttribute()
    description = UnicodeAttribute()
    value_in_credits = DecimalAttribute()
    value_in_fiat = DecimalAttribute()
    created_at = IsoDateTimeAttribute()
    updated_at = IsoDateTimeAttribute()
    request_hash = UnicodeAttribute(null=True)

    @staticmethod
    def key(user_id: str, transaction_id: str) -> tuple[str, str]:
        return user_pk(user_id), f"TRANSACTION#{transaction_id}"

    @staticmethod
    def listing(user_id: str) -> str:
        return f"TRANSACTIONS#{user_id}"


class RateCounter(TableItem):
    """Requests of one subject in one second; no `kind`, as it is only ever written by an upsert."""

    hits = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)

    @staticmethod
    def key(subject: str, second: int) -> tuple[str, str]:
        return f"RATE#{subject}", str(second)


class MailCapCounter(TableItem):
    """Code emails sent to one address in one clock hour; no `kind`, as it is only ever written by an upsert."""

    emails = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)

    @staticmethod
    def key(email: str, hour: int) -> tuple[str, str]:
        return f"MAILCAP#{email}", str(hour)


class TaskItem(TableItem, discriminator="task"):
    """An analysis task. gsi2 lists a user's tasks newest first. While the task is open (PENDING or PROCESSING)
    it is also in the sparse open-task listing of gsi1 (gsi1pk = OPEN_TASKS#<shard>, gsi1sk = <created_at>#<id>),
    which the change to COMPLETED or FAILED removes. gsi1 otherwise finds items by email, which never starts with
    "OPEN_TASKS#", so the two uses cannot meet; the shards spread the index's writes over a few partitions.

    created_at and updated_at are kept as the text they were written as (a task's first updated_at ends in "Z",
    a status change's in "+00:00"): a backstop's write requires updated_at unchanged, so it compares that text."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    attachments = ListAttribute(of=DocumentAttribute, null=True)
    result_json = UnicodeAttribute(null=True)  # read as stored: a page shows it without reading it
    result_format = NumberAttribute(null=True)
    result = DocumentAttribute(null=True)  # how a task completed before result_json holds its result
    error = UnicodeAttribute(null=True)
    cost_credits = NumberAttribute(null=True)
    run_id = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    requeued_at = NumberAttribute(null=True)  # the sweeper's last re-queue (seconds since the epoch)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(user_id: str, task_id: str) -> tuple[str, str]:
        return user_pk(user_id), f"TASK#{task_id}"

    @staticmethod
    def listing(user_id: str) -> str:
        return f"TASKS#{user_id}"

    @staticmethod
    def open_listing(shard: int) -> str:
        return f"OPEN_TASKS#{shard}"


class AnalysisKeyItem(TableItem, discriminator="analysis_key"):
    """An Idempotency-Key of the user's analysis requests: the task it made and the digest of its request, until
    expires_at. Written in the task's own transaction, on the condition that the key is new or expired; the key is
    kept only as its SHA-256 (a client's key may be long, and is not ours to store). Expired by TTL too, a while
    after expires_at (the condition, not the TTL, is what frees the key on time)."""

    task_id = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key(user_id: str, idempotency_key: str) -> tuple[str, str]:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
        return user_pk(user_id), f"IDEMPOTENCY#ANALYSIS#{digest}"


class WebhookCountItem(TableItem, discriminator="webhook_count"):
    """How many webhook endpoints the user has: raised on the condition that it is below the cap, in the unit
    that creates one, and lowered in the unit that deletes one, so concurrent creations cannot pass the cap."""

    endpoints = NumberAttribute(default=0)

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return user_pk(user_id), "WEBHOOKS"


class WebhookItem(TableItem, discriminator="webhook"):
    """A webhook endpoint of the user (clara.domain.webhooks): where events go and which, its signing secret
    sealed (clara.domain.sealed) and, for 24 hours after a rotation, the previous one; since when every delivery
    to it has failed, and when it was disabled for that."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute)
    description = UnicodeAttribute(null=True)
    enabled = BooleanAttribute()
    secret_ciphertext = UnicodeAttribute()
    previous_secret_ciphertext = UnicodeAttribute(null=True)
    previous_secret_until = NumberAttribute(null=True)
    failing_since = NumberAttribute(null=True)
    disabled_at = NumberAttribute(null=True)
    created_at = IsoDateTimeAttribute()

    PREFIX = "WEBHOOK#"

    @staticmethod
    def key(user_id: str, webhook_id: str) -> tuple[str, str]:
        return user_pk(user_id), f"{WebhookItem.PREFIX}{webhook_id}"


class WebhookEventItem(TableItem, discriminator="webhook_event"):
    """An event waiting to be handed to the delivery queue: written in the unit of the change it tells of (a task's
    end), deleted once its messages are sent. Until then it is in the sparse listing of gsi1 (gsi1pk =
    WEBHOOK_EVENTS) that the sweeper reads, as notices are. Expired by TTL after a day."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    type = UnicodeAttribute()
    body = UnicodeAttribute()  # the JSON body every endpoint receives, signed as is
    webhook_ids = ListAttribute(of=UnicodeAttribute)
    created_at = IsoDateTimeAttribute()
    expires_at = NumberAttribute()

    LISTING = "WEBHOOK_EVENTS"

    @staticmethod
    def key(user_id: str, event_id: str) -> tuple[str, str]:
        return user_pk(user_id), f"WEBHOOK_EVENT#{event_id}"


class WebhookDeliveryItem(TableItem, discriminator="webhook_delivery"):
    """One attempt to deliver an event to an endpoint, for the endpoint's delivery log (newest first by its sort
    key). Expired by TTL after DELIVERY_LOG_DAYS."""

    event_id = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    type = UnicodeAttribute()
    attempt = NumberAttribute()
    outcome = UnicodeAttribute()  # delivered | retrying | failed
    status_code = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    duration_ms = NumberAttribute()
    created_at = IsoDateTimeAttribute()
    next_attempt_at = IsoDateTimeAttribute(null=True)
    expires_at = NumberAttribute()

    @staticmethod
    def prefix(webhook_id: str) -> str:
        return f"DELIVERY#{webhook_id}#"

    @staticmethod
    def key(user_id: str, webhook_id: str, created_at: str, event_id: str, attempt: int) -> tuple[str, str]:
        return user_pk(user_id), f"{WebhookDeliveryItem.prefix(webhook_id)}{created_at}#{event_id}#{attempt}"
