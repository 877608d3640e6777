"""DynamoDB round trips of the requests docs/budgets.md budgets, with the budgets tests/integration asserts
(test_round_trips.py, test_analysis.py, test_stripe.py): the authenticated read is the rate counter and one
batched read; a page or an analysis adds its one own call (a Query, one TransactWriteItems) to that."""

from collections.abc import Callable

from bench.scenarios import fresh_user, named
from bench.table import NOT_MEASURED, Row, verdict

Check = Callable[[list[str]], bool]

# scenario name -> (budget as the table shows it, the check the tests make on the operation names)
BUDGETS: dict[str, tuple[str, Check]] = {
    "POST /auth/session (cost 4)": ("login: <= 3", lambda names: len(names) <= 3),
    "GET /users/{id}": ("authenticated read: <= 2", lambda names: len(names) <= 2),
    "GET /users/{id}/transactions?limit=20": (
        "<= 3: read (2) + 1 Query",
        # The authenticated read (BatchGetItem, then the rate counter's UpdateItem), then the page's Query.
        lambda names: names == ["BatchGetItem", "UpdateItem", "Query"],
    ),
    "POST /users/{id}/agent/analysis (text)": (
        "<= 3: read (2) + 1 TransactWriteItems",
        lambda names: len(names) <= 3 and names.count("TransactWriteItems") == 1,
    ),
    "Stripe webhook: a paid checkout.session": (
        "1 TransactWriteItems, no read",
        lambda names: names == ["TransactWriteItems"],
    ),
}


def rows() -> list[Row]:
    section = "DynamoDB round trips of one request (botocore calls to dynamodb); budgets as tests/integration asserts"
    found = []
    with fresh_user() as user:
        for name, (budget, check) in BUDGETS.items():
            scenario = named(name)
            try:
                scenario.setup(user, 1)
                invocation = scenario.prepare(user)
                user.harness.aws.reset()
                result = invocation()
                assert scenario.ok(result), str(result)[:80]
            except Exception as error:
                found.append(Row(section, name, f"failed: {error}"[:100], budget, NOT_MEASURED))
                continue
            names = [call.split(":", 1)[1] for call in user.harness.aws.calls if call.startswith("dynamodb:")]
            found.append(Row(section, name, f"{len(names)}: {' '.join(names)}", budget, verdict(check(names))))
    return found
