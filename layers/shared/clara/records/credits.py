"""The records of the credits ledger as clara.store.transactions reads and writes them."""

from datetime import datetime
from typing import Literal

from clara.formats import HttpDate, LazyModel, Money

TransactionType = Literal["CREDIT", "DEBIT"]


class _Entry(LazyModel):
    """What a ledger entry and its view share; each states its dates (stored as datetimes, shown as HTTP dates)."""

    id: str
    user_id: str
    type: TransactionType
    description: str
    value_in_credits: Money
    value_in_fiat: Money


class Transaction(_Entry):
    created_at: datetime
    updated_at: datetime
    # The digest of the request an Idempotency-Key recorded (never shown): a reuse must repeat it.
    request_hash: str | None = None

    def view(self) -> "TransactionView":
        # Built from fields this record already validated, without a dump of it: a listed page builds one per entry.
        # model_construct keeps only the view's fields (request_hash is left out).
        return TransactionView.model_construct(**self.__dict__)


class TransactionView(_Entry):
    created_at: HttpDate
    updated_at: HttpDate
