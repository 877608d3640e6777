"""The credit rate bands (STRIPE_RATES): what a purchase of whole dollars buys."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from clara.contract.errors import CreditsRateNotFound
from clara.formats import LazyModel, money
from clara.settings import get_settings


class RateBand(LazyModel):
    """Amounts from lower_limit to upper_limit dollars (inclusive) buy `rate` credits per dollar."""

    lower_limit: Annotated[int, Field(ge=1)]
    upper_limit: Annotated[int, Field(ge=1)]
    rate: Annotated[int | float, Field(gt=0)]
    # In the contract's Rate response; Checkout prices each purchase inline (price_data), so it is usually null.
    stripe_price_id: str | None = None

    def credits_for(self, amount: int) -> Decimal:
        """Exact: the rate through its shortest text, so a rate of 110.5 is 110.5 and not a binary fraction."""
        return money(Decimal(amount) * Decimal(str(self.rate)))


_BANDS = TypeAdapter(list[RateBand])


def rate_bands() -> list[RateBand]:
    """The bands of STRIPE_RATES, parsed and validated on each call (a bad value is a 500 that says why in the
    log, not a function that fails to start)."""
    bands = _BANDS.validate_json(get_settings().stripe_rates)
    for band in bands:
        if band.lower_limit > band.upper_limit:
            raise ValueError(f"STRIPE_RATES: lower_limit {band.lower_limit} is above upper_limit {band.upper_limit}")
    return sorted(bands, key=lambda band: band.lower_limit)


def band_for(amount: int) -> RateBand:
    """The band that prices `amount` dollars; 404 "No credits rate found ..." outside every band."""
    for band in rate_bands():
        if band.lower_limit <= amount <= band.upper_limit:
            return band
    raise CreditsRateNotFound()


def rates_view() -> list[dict[str, Any]]:
    return [band.model_dump() for band in rate_bands()]
