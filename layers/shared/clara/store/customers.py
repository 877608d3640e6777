"""The user's customer at the payment provider (Stripe), stored on the user once."""

from pynamodb.exceptions import UpdateError

from clara.store.items import UserItem


def attach_stripe_customer(user_id: str, customer_id: str) -> bool:
    """Store the user's Stripe customer id, on the condition that the user exists and has none yet: False when
    that does not hold (the user is gone, or a concurrent request stored one first)."""
    user = UserItem(*UserItem.key(user_id))
    condition = UserItem.pk.exists() & UserItem.stripe_customer_id.does_not_exist()
    try:
        user.update(actions=[UserItem.stripe_customer_id.set(customer_id)], condition=condition)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True
