"""The append-only audit trail of security events. An audit item never holds a secret: no password, code,
token or key, only what happened, to whom, from where and when."""

from typing import Any, Literal

from clara.formats import new_id, utc_now
from clara.store import unit
from clara.store.items import AuditItem

AuditEvent = Literal[
    "register",
    "google_sign_in",
    "google_took_unverified_account",
    "registration_undone",
    "email_not_sent",
    "login_succeeded",
    "login_failed",
    "lockout",
    "logout",
    "password_changed",
    "otp_sent",
    "otp_used",
    "activated",
    "2fa_enabled",
    "2fa_disabled",
    "2fa_totp_enrolment_started",
    "2fa_recovery_codes_regenerated",
    "2fa_method_changed",
    "2fa_reset_by_support",
    "user_updated",
    "api_key_reset",
    "credits_bought",
    "admin_credits_set",
    "admin_transaction_added",
    "admin_user_deleted",
]


def audit_item(event: AuditEvent, *, user_id: str | None, source_ip: str | None, **details: Any) -> AuditItem:
    now = utc_now()
    created_at = now.isoformat()
    return AuditItem(
        # A user's events live with the user (and go with it when it is erased); the rest by day.
        AuditItem.partition(user_id, f"{now:%Y-%m-%d}"),
        AuditItem.sort_key(created_at, new_id("audit")),
        event=event,
        user_id=user_id,
        source_ip=source_ip,
        created_at=created_at,
        details=details,
    )


def audit_put(event: AuditEvent, *, user_id: str | None, source_ip: str | None, **details: Any) -> unit.Write:
    """The audit item as a write of a unit, to be stored with the change it records."""
    return unit.put("audit", audit_item(event, user_id=user_id, source_ip=source_ip, **details))


def record(event: AuditEvent, *, user_id: str | None, source_ip: str | None, **details: Any) -> None:
    """Write an audit item on its own (for events that change nothing else)."""
    audit_item(event, user_id=user_id, source_ip=source_ip, **details).save()
