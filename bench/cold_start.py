"""Cold-start cost of handler modules against the floor of docs/budgets.md, Cold start, in fresh interpreters.

Each measurement is one new Python process timing the import of a handler module plus the creation of the
DynamoDB client it needs before its first read (the floor creates it at import, Clara's handlers on first use,
so both pay the same work). Runs are interleaved so machine noise hits every module alike.

    python bench/cold_start.py [--runs 10] [--python .local/bench-venv/bin/python]

`python -m bench` reports the same figures (rows()) in its one table.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script (python bench/cold_start.py): make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.table import NO_BUDGET, Row, verdict  # noqa: E402

FLOOR = "floor (resolver + boto3 read)"
BUDGET = 1.3  # docs/budgets.md, Cold start: a handler's import costs at most 1.3x the floor
# Every function but misc reads DynamoDB on its first request; the floor builds its client at import.
CREATE_DYNAMODB_CLIENT = "import clara.store.table; clara.store.table.client()"


def handlers() -> dict[str, tuple[str, str]]:
    """name -> (handler module, what it does before its first DynamoDB read besides importing): the floor, then
    every function of template.yaml."""
    sys.path.insert(0, str(ROOT))
    from local_runtime.template import load_template

    measured = {FLOOR: ("bench/handlers/floor/app.py", "")}
    for function_id, function in sorted(load_template(ROOT / "template.yaml").functions.items()):
        module = function.code_uri / (function.handler.rsplit(".", 1)[0] + ".py")
        warm = "" if function.code_uri.name == "misc" else CREATE_DYNAMODB_CLIENT
        measured[function_id] = (str(module.relative_to(ROOT)), warm)
    return measured


PROBE = """
import importlib.util, sys, time
sys.path.insert(0, {layer!r})  # /opt/python in Lambda
sys.path.insert(0, {code_dir!r})  # /var/task: the handler's code...
sys.path.insert(0, {packages!r})  # ...and its own packages
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
{warm}
print(time.perf_counter() - started)
"""

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "TABLE_NAME": "bench",
    # As inside Lambda: the X-Ray SDK then samples locally instead of building its own X-Ray clients at import.
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "PATH": "/usr/bin:/bin",
}


def measure_once(python: str, path: str, warm: str) -> float:
    code = PROBE.format(
        layer=str(ROOT / "layers/shared"),
        code_dir=str((ROOT / path).parent),
        packages=str(ROOT / ".local/bench-functions" / (ROOT / path).parent.name),
        path=str(ROOT / path),
        warm=warm,
    )
    output = subprocess.run([python, "-c", code], env=ENV, capture_output=True, text=True, check=True)
    return float(output.stdout.strip())


def measure(python: str, runs: int) -> tuple[str, dict[str, float]]:
    """(the interpreter's version, the median import time of every handler and of the floor)."""
    measured = handlers()
    samples: dict[str, list[float]] = {name: [] for name in measured}
    for _ in range(runs):
        for name, (path, warm) in measured.items():
            samples[name].append(measure_once(python, path, warm))
    version = subprocess.run([python, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    return version, {name: statistics.median(values) for name, values in samples.items()}


def rows(python: str, runs: int = 10) -> list[Row]:
    """One row per function of template.yaml: its import time as a multiple of the floor's, in the same run."""
    version, medians = measure(python, runs)
    floor = medians[FLOOR]
    section = f"Cold start: handler import, median of {runs} fresh Python {version} interpreters"
    found = [Row(section, FLOOR, f"{floor * 1000:.0f} ms", "the reference", NO_BUDGET)]
    for name, median in medians.items():
        if name != FLOOR:
            figure = f"{median * 1000:.0f} ms = {median / floor:.2f}x floor"
            found.append(Row(section, name, figure, f"<= {BUDGET}x floor", verdict(median / floor <= BUDGET)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter to measure with; `make bench` passes one with only the layer's packages and boto3",
    )
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = parser.parse_args()

    version, medians = measure(args.python, args.runs)
    floor = medians[FLOOR]
    if args.json:
        print(json.dumps({"python": version, "runs": args.runs, "median_seconds": medians}))
        return
    print(f"Python {version}, median of {args.runs} fresh interpreters each (budget: {BUDGET}x the floor)")
    for name, median in medians.items():
        mark = "" if name == FLOOR else verdict(median / floor <= BUDGET)
        print(f"  {name:32s} {median * 1000:7.1f} ms  {median / floor:4.2f}x floor  {mark}")


if __name__ == "__main__":
    main()
