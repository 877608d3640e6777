"""The ledger's items: a transaction item per change of a balance, written in one unit with the balance's update.

A transaction's id is deterministic (its cause names it), and its write is conditional on the id being new, so a
replay or a race records it once. The balance's update is conditional too: the user exists, a debit is covered,
and an absolute balance set by the admin starts from the balance it was computed from.
"""

from decimal import Decimal

from clara.records.credits import Transaction, TransactionView
from clara.store import unit
from clara.store.items import TransactionItem, UserItem
from clara.store.table import newest_first

# Names of the two writes of a ledger change, as Refused.reasons gives them.
BALANCE = "balance"
TRANSACTION = "transaction"


def _transaction(item: TransactionItem) -> Transaction:
    return Transaction.model_validate(item.attribute_values)


def _transaction_item(transaction: Transaction) -> TransactionItem:
    return TransactionItem(
        *TransactionItem.key(transaction.user_id, transaction.id),
        # Listing newest first goes through gsi2.
        gsi2pk=TransactionItem.listing(transaction.user_id),
        gsi2sk=f"{transaction.created_at.isoformat()}#{transaction.id}",
        **transaction.model_dump(exclude_none=True),
    )


def get_transaction(user_id: str, transaction_id: str) -> Transaction | None:
    try:
        return _transaction(TransactionItem.get(*TransactionItem.key(user_id, transaction_id), consistent_read=True))
    except TransactionItem.DoesNotExist:
        return None


def list_transaction_views(user_id: str, limit: int, offset: int) -> list[TransactionView]:
    """A page as clients see it: each entry validated once, as its view, rather than as a record and then copied
    to its view (about half the page's own work for that)."""
    listing = newest_first(TransactionItem, TransactionItem.listing(user_id), limit, offset)
    return [TransactionView.model_validate(values) for values in listing]


def change_balance(
    transaction: Transaction, *, needed: Decimal | None, expected_balance: Decimal | None
) -> tuple[unit.Write, unit.Write]:
    """The two writes of a ledger change: the balance moves by the transaction's amount (refused if the user is
    gone, `needed` is not covered, or the balance is not `expected_balance`), and the transaction is recorded
    (refused if its id exists: a replay)."""
    delta = transaction.value_in_credits if transaction.type == "CREDIT" else -transaction.value_in_credits
    condition = UserItem.pk.exists()
    if needed is not None:
        condition &= UserItem.credits >= needed
    if expected_balance is not None:
        condition &= UserItem.credits == expected_balance
    user = UserItem(*UserItem.key(transaction.user_id))
    balance = unit.update(
        BALANCE, user, [UserItem.credits.add(delta), UserItem.updated_at.set(transaction.updated_at)], condition
    )
    record = unit.put(TRANSACTION, _transaction_item(transaction), TransactionItem.pk.does_not_exist())
    return balance, record


def user_exists(user_id: str) -> bool:
    try:
        UserItem.get(*UserItem.key(user_id), consistent_read=True, attributes_to_get=["pk"])
    except UserItem.DoesNotExist:
        return False
    return True
