"""Users: the domain model and its public views (clara.records), and the reads of users (clara.store.users)."""

from clara.records.accounts import (
    AdminUserView,
    AdminUserWithToken,
    Otp,
    OtpType,
    TwoFactorMethod,
    User,
    UserRecords,
    UserView,
    UserWithToken,
)
from clara.store import users as stored
from clara.store.items import USER_SK

__all__ = [
    "USER_SK",
    "AdminUserView",
    "AdminUserWithToken",
    "Otp",
    "OtpType",
    "TwoFactorMethod",
    "User",
    "UserRecords",
    "UserView",
    "UserWithToken",
    "find_by_email",
    "get_user",
    "get_user_with",
    "list_users",
]

get_user = stored.get_user
get_user_with = stored.get_user_with
find_by_email = stored.find_by_email
list_users = stored.list_users
