"""The cost estimate: token prices per model, a price per grounded call, each overridable from the environment.

The figures are assumptions kept here so an evaluation can say roughly what a task costs; AWS's pricing page is
the authority (https://aws.amazon.com/bedrock/pricing/), and the EVAL_PRICE_* variables correct them without a
code change.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

PRICING_PAGE = "https://aws.amazon.com/bedrock/pricing/"
INPUT_VARIABLE = "EVAL_PRICE_INPUT_PER_MTOK"
OUTPUT_VARIABLE = "EVAL_PRICE_OUTPUT_PER_MTOK"
SEARCH_VARIABLE = "EVAL_PRICE_PER_SEARCH"

# USD per million tokens (input, output), by model id without its inference-profile prefix.
TOKEN_PRICES: dict[str, tuple[float, float]] = {
    "amazon.nova-2-lite-v1:0": (0.30, 2.50),
    "amazon.nova-premier-v1:0": (2.50, 12.50),
    "amazon.nova-pro-v1:0": (0.80, 3.20),
    "amazon.nova-lite-v1:0": (0.06, 0.24),
}
DEFAULT_PRICE_PER_SEARCH = 0.0
# Cross-region inference profiles put the geography before the model id: us.amazon.nova-2-lite-v1:0.
REGION_PREFIXES = ("us", "us-gov", "eu", "apac", "jp", "au", "ca", "global")


@dataclass(frozen=True)
class Prices:
    input_per_mtok: float
    output_per_mtok: float
    per_search: float
    per_search_from_environment: bool  # False: the default 0, which leaves web grounding's charge out


def base_model_id(model: str) -> str:
    """The id the price table knows: `us.amazon.nova-2-lite-v1:0` -> `amazon.nova-2-lite-v1:0`."""
    prefix, dot, rest = model.partition(".")
    return rest if dot and prefix in REGION_PREFIXES else model


def _price(environ: Mapping[str, str], variable: str) -> float | None:
    raw = environ.get(variable, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{variable} must be a number of USD, not {raw!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(f"{variable} must be a finite number of USD >= 0, not {raw!r}")
    return value


def prices_for(model: str | None, environ: Mapping[str, str] = os.environ) -> Prices | None:
    """The prices for `model`: the table's, each replaced by its EVAL_PRICE_* variable when set. None when a token
    price is known from neither (an unknown model); ValueError when a variable is not a price."""
    table = TOKEN_PRICES.get(base_model_id(model)) if model else None
    input_price = _price(environ, INPUT_VARIABLE)
    output_price = _price(environ, OUTPUT_VARIABLE)
    search_price = _price(environ, SEARCH_VARIABLE)
    if input_price is None:
        input_price = table[0] if table else None
    if output_price is None:
        output_price = table[1] if table else None
    if input_price is None or output_price is None:
        return None
    return Prices(
        input_per_mtok=input_price,
        output_per_mtok=output_price,
        per_search=DEFAULT_PRICE_PER_SEARCH if search_price is None else search_price,
        per_search_from_environment=search_price is not None,
    )


def estimate(prices: Prices, input_tokens: int, output_tokens: int, grounded_calls: int) -> float:
    """USD: tokens at the per-million prices, plus each grounded call at the per-search price."""
    return (
        input_tokens / 1_000_000 * prices.input_per_mtok
        + output_tokens / 1_000_000 * prices.output_per_mtok
        + grounded_calls * prices.per_search
    )


def unknown_message(model: str | None) -> str:
    return f"cost: unknown (no price for {model}; set {INPUT_VARIABLE}/{OUTPUT_VARIABLE})"
