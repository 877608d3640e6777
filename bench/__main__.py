"""`python -m bench` (`make bench`): every budget of docs/budgets.md measured and printed in one table.

Importing the package first (bench/__init__.py) puts the layer's `clara` on sys.path, as in Lambda.

It exits 0 whatever the figures are, over budget or not (a benchmark reports, tests assert); it exits 1 only when
a figure could not be measured at all, after printing the table that says which.
"""

import argparse
import logging
import sys
import time
from collections.abc import Callable

from bench import cold_start, round_trips, sizes, throughput, warm
from bench.table import NOT_MEASURED, Row, print_table
from harness.stdout import stdout_redirected

NOTES = [
    "cold start runs in --python (make bench: python3.13 with only the layer's packages and boto3, as in Lambda);",
    "  warm figures and round trips run in this interpreter (make bench: python3.13 with the dev packages),",
    "  in-process on moto (the tests' stack and environment).",
    "POST /auth/session's warm row leaves bcrypt out (its cost-12 check is the login section's budget).",
]


def in_process_rows() -> list[Row]:
    # The functions' log lines would bury the table: to /dev/null meanwhile (writing them stays in the measured time).
    with stdout_redirected("devnull"):
        return warm.rows() + round_trips.rows()


def baseline_rows(args: argparse.Namespace) -> list[Row]:
    return cold_start.against_baseline(args.python, args.runs, args.baseline)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the cold-start measurement")
    parser.add_argument("--runs", type=int, default=10, help="fresh interpreters per handler for the cold start")
    parser.add_argument(
        "--baseline", help="a git revision: also measure its handlers' cold start in turns with today's, and the change"
    )
    args = parser.parse_args()
    # As in Lambda, whose runtime configures the root logger before a handler loads: the MCP SDK's own
    # logging.basicConfig (a Rich handler on stderr at INFO) is then a no-op, and only warnings reach stderr.
    warnings_only = logging.StreamHandler()
    warnings_only.setLevel(logging.WARNING)
    logging.basicConfig(handlers=[warnings_only])

    measurements: list[tuple[str, Callable[[], list[Row]]]] = [
        ("cold start", lambda: cold_start.rows(args.python, args.runs)),
        *(
            [
                (
                    "cold start against " + args.baseline,
                    lambda: cold_start.against_baseline(args.python, args.runs, args.baseline),
                )
            ]
            if args.baseline
            else []
        ),
        ("warm requests, login and round trips", in_process_rows),
        ("built sizes", sizes.rows),
        ("throughput of the local runtime", throughput.rows),
    ]
    rows: list[Row] = []
    for title, measure in measurements:
        started = time.perf_counter()
        print(f"bench: measuring {title}...", file=sys.stderr, flush=True)
        rows += measure()
        print(f"bench: {title} took {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    print_table(rows, NOTES)
    return 1 if any(row.verdict == NOT_MEASURED for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
