"""Cold-start cost of handler modules against the floor of docs/budgets.md, Cold start, in fresh interpreters.

Each measurement is one new Python process timing the import of a handler module plus the creation of the
DynamoDB client it needs before its first read (the floor creates it at import, Clara's handlers on first use,
so both pay the same work). Runs are interleaved so machine noise hits every module alike.

    python bench/cold_start.py [--runs 10] [--python .local/bench-venv/bin/python] [--baseline REV]

With a baseline (a git revision, `make bench BASELINE=main~3`), each handler of the baseline's code is measured
too, interleaved with today's in the same run, and the table gives the change of each: what a refactoring costs
at cold start, without the drift between two runs (tens of milliseconds on a busy machine). Both use the same
installed packages (the layer's and each function's own from the bench venv); only the code differs.

Where even that is noise (the floor, the same code in both trees, moves by ±25 ms on a shared VM), instructions
are not: with valgrind installed, the baseline comparison also counts the instructions each probe executes
(callgrind, with a fixed hash seed: the same count on every run), and converts the change to milliseconds at
the rate the floor shows in the same run (its median time over its instructions).

`python -m bench` reports the same figures (rows()) in its one table.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script (python bench/cold_start.py): make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench.table import NO_BUDGET, Row, verdict  # noqa: E402

FLOOR = "floor (resolver + boto3 read)"
# docs/budgets.md, Cold start: what a change of the code (a refactoring) may add to a handler's import.
CHANGE_ALLOWANCE_MS = 15
BUDGET = 1.3  # docs/budgets.md, Cold start: a handler's import costs at most 1.3x the floor
# Every function but misc reads DynamoDB on its first request; the floor builds its client at import.
CREATE_DYNAMODB_CLIENT = "import clara.store.table; clara.store.table.client()"


# A baseline's own way to build its DynamoDB client, by the module it has (before clara.store, clara.dynamo).
CREATE_DYNAMODB_CLIENT_BY_MODULE = {
    "layers/shared/clara/store/table.py": CREATE_DYNAMODB_CLIENT,
    "layers/shared/clara/dynamo.py": "import clara.dynamo; clara.dynamo.client()",
}


def handlers(root: Path = ROOT) -> dict[str, tuple[str, str]]:
    """name -> (handler module, what it does before its first DynamoDB read besides importing): the floor, then
    every function of template.yaml, as the code under `root` has them."""
    sys.path.insert(0, str(ROOT))
    from local_runtime.template import load_template

    create_client = next(
        (code for module, code in CREATE_DYNAMODB_CLIENT_BY_MODULE.items() if (root / module).is_file()),
        CREATE_DYNAMODB_CLIENT,
    )
    measured = {FLOOR: ("bench/handlers/floor/app.py", "")}
    for function_id, function in sorted(load_template(root / "template.yaml").functions.items()):
        module = (root / function.code_uri).resolve() if not function.code_uri.is_absolute() else function.code_uri
        module = module / (function.handler.rsplit(".", 1)[0] + ".py")
        warm = "" if module.parent.name == "misc" else create_client
        measured[function_id] = (str(module.relative_to(root.resolve())), warm)
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


def probe(path: str, warm: str, root: Path = ROOT) -> str:
    """The code a fresh interpreter runs to import the handler at `path` of the tree `root`, as Lambda would."""
    return PROBE.format(
        layer=str(root / "layers/shared"),
        code_dir=str((root / path).parent),
        packages=str(ROOT / ".local/bench-functions" / (root / path).parent.name),
        path=str(root / path),
        warm=warm,
    )


def measure_once(python: str, path: str, warm: str, root: Path = ROOT) -> float:
    output = subprocess.run(
        [python, "-c", probe(path, warm, root)], env=ENV, capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip())


def instructions(python: str, code: str) -> int:
    """The instructions `python -c code` executes, interpreter start included (valgrind's callgrind)."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python, "-c", code]
    # A fixed hash seed: with a random one, dict and set layouts move the count by up to 0.2% run to run.
    output = subprocess.run(command, env={**ENV, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True)
    collected = re.search(r"Collected : (\d+)", output.stderr)
    if collected is None:
        raise RuntimeError(f"callgrind printed no count: {output.stderr[-300:]}")
    return int(collected.group(1))


Job = TypeVar("Job", bound=Hashable)


def instructions_of(python: str, jobs: dict[Job, str]) -> dict[Job, int]:
    """instructions() of each job's code. Counts do not depend on the load, so they run side by side, one per core."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(jobs, pool.map(lambda code: instructions(python, code), jobs.values()), strict=True))


def measure(python: str, runs: int) -> tuple[str, dict[str, float]]:
    """(the interpreter's version, the median import time of every handler and of the floor)."""
    measured = handlers()
    samples: dict[str, list[float]] = {name: [] for name in measured}
    for _ in range(runs):
        for name, (path, warm) in measured.items():
            samples[name].append(measure_once(python, path, warm))
    version = subprocess.run([python, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    return version, {name: statistics.median(values) for name, values in samples.items()}


@contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """The code of `revision`, in a temporary git worktree (removed afterwards)."""
    git = shutil.which("git") or "git"
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as folder:
        path = Path(folder) / "baseline"
        subprocess.run([git, "worktree", "add", "--detach", "--quiet", str(path), revision], cwd=ROOT, check=True)
        try:
            yield path
        finally:
            subprocess.run([git, "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)


def against_baseline(python: str, runs: int, revision: str) -> list[Row]:
    """One row per function in both trees: today's median import time minus the baseline's, measured in turns;
    with valgrind, one more per function: the change of its instructions (count_instructions)."""
    with checkout(revision) as baseline:
        today, before = handlers(), handlers(baseline)
        shared = [name for name in today if name in before]
        samples: dict[tuple[str, str], list[float]] = {(name, side): [] for name in shared for side in "ab"}
        for _ in range(runs):
            for name in shared:
                samples[(name, "b")].append(measure_once(python, *before[name], root=baseline))
                samples[(name, "a")].append(measure_once(python, *today[name]))
        counted = count_instructions(python, {name: (today[name], before[name]) for name in shared}, baseline)
    section = f"Cold start against {revision}: the same run, in turns, median of {runs} each"
    found = []
    for name in shared:
        after, earlier = (statistics.median(samples[(name, side)]) * 1000 for side in "ab")
        figure = f"{after - earlier:+.0f} ms ({earlier:.0f} -> {after:.0f} ms)"
        if name == FLOOR:  # the same code in both trees: what is left is the machine's noise
            found.append(Row(section, name, figure, "the same code: noise", NO_BUDGET))
        else:
            budget = f"<= +{CHANGE_ALLOWANCE_MS} ms"
            found.append(Row(section, name, figure, budget, verdict(after - earlier <= CHANGE_ALLOWANCE_MS)))
    if counted is None:
        return found
    floor_ms = statistics.median(samples[(FLOOR, "a")]) * 1000
    return found + instruction_rows(revision, *counted, floor_ms=floor_ms)


Counts = dict[str, tuple[int, int]]  # name -> (today's instructions, the baseline's)


def count_instructions(
    python: str, probes: dict[str, tuple[tuple[str, str], tuple[str, str]]], baseline: Path
) -> tuple[Counts, int] | None:
    """Each probe's instructions in both trees, and the interpreter's own start (`pass`); None without valgrind.
    The counts do not depend on the load, so they run side by side, one per core."""
    if shutil.which("valgrind") is None:
        return None
    jobs = {(name, side): probe(*handler, root=root) for name, (today, before) in probes.items()
            for side, handler, root in (("a", today, ROOT), ("b", before, baseline))}  # fmt: skip
    jobs[("start", "a")] = "pass"
    counted = instructions_of(python, jobs)
    return {name: (counted[(name, "a")], counted[(name, "b")]) for name in probes}, counted[("start", "a")]


def instruction_rows(revision: str, counts: Counts, start: int, *, floor_ms: float) -> list[Row]:
    """One row per function: the change of its instructions, and that change in ms at the floor's rate (its
    median time in this run over its instructions beyond the interpreter's start)."""
    ms_per_million = floor_ms / ((counts[FLOOR][0] - start) / 1e6)
    section = f"Cold start against {revision}: instructions (valgrind), at the floor's {ms_per_million:.3f} ms per M"
    found = []
    for name, (after, earlier) in counts.items():
        change = (after - earlier) / 1e6
        figure = f"{change:+.1f} M = {change * ms_per_million:+.1f} ms ({earlier / 1e6:.1f} -> {after / 1e6:.1f} M)"
        if name == FLOOR:
            found.append(Row(section, name, figure, "the same code: ~0", NO_BUDGET))
        else:
            within = change * ms_per_million <= CHANGE_ALLOWANCE_MS
            found.append(Row(section, name, figure, f"<= +{CHANGE_ALLOWANCE_MS} ms", verdict(within)))
    return found


# After a SnapStart restore the import is already done (in the snapshot): what is left before the first read is
# clara.snapstart's hook and the DynamoDB client (created on first use, never in the snapshot).
AFTER_RESTORE = "import clara.snapstart; clara.snapstart.reset_after_restore()"


def snapstart_functions(root: Path = ROOT) -> set[str]:
    """The functions template.yaml starts from a SnapStart snapshot by default (README, SnapStart)."""
    from local_runtime.template import load_template

    return set(
        filter(None, (load_template(root / "template.yaml").parameters.get("SnapStartFunctions") or "").split(","))
    )


def counted_instructions(python: str, measured: dict[str, tuple[str, str]], restored: set[str]) -> dict[str, int]:
    """Each probe's instructions (callgrind, fixed hash seed: the same on every run), the interpreter's own start
    (`pass`) under "start", and for a SnapStart function the work after its restore: its probe with the restore's
    steps after the import, minus the same probe without them. Side by side, one per core: counts ignore load."""
    jobs = {name: probe(path, warm) for name, (path, warm) in measured.items()}
    jobs |= {f"{name} import": probe(measured[name][0], "") for name in restored}
    jobs |= {
        f"{name} restore": probe(measured[name][0], f"{AFTER_RESTORE}; {CREATE_DYNAMODB_CLIENT}") for name in restored
    }
    jobs["start"] = "pass"
    counted = instructions_of(python, jobs)
    for name in restored:  # the import is in the snapshot: only what runs after the restore counts
        counted[name] = counted["start"] + counted.pop(f"{name} restore") - counted.pop(f"{name} import")
    return counted


# What one library adds to the floor by itself: the floor's probe with one more import, counted as the functions
# are. Together with the floor these are most of every function's count, so they say what the budget's 0.3x above
# the floor leaves for everything else (docs/budgets.md, Cold start, What the budget leaves room for).
LIBRARIES = {
    "pydantic: BaseModel and one model": (
        "from pydantic import BaseModel, Field\nclass Probe(BaseModel):\n    count: int = Field(ge=0)\nProbe(count=1)"
    ),
    "Powertools' Tracer (the X-Ray SDK)": "from aws_lambda_powertools import Tracer; Tracer(service='probe')",
    "PynamoDB's Model": "from pynamodb.models import Model",
    "PyJWT": "import jwt",
}
# PyJWT imports cryptography's RSA, EC, EdDSA and X.509 modules when cryptography is installed, as it is in the
# packages of the functions that seal secrets (AES-GCM, clara.domain.sealed): AuthFunction's is the one measured.
PYJWT_WITH_CRYPTOGRAPHY = "PyJWT with cryptography installed (AuthFunction, WebhooksFunction)"


def library_probes(root: Path = ROOT) -> dict[str, str]:
    """name -> the floor's probe with the library's import after it; PyJWT with cryptography only where the bench
    venv holds AuthFunction's packages (`make bench` installs them)."""
    floor_path, _ = handlers(root)[FLOOR]
    imports = dict(LIBRARIES)
    auth_packages = root / ".local/bench-functions/auth"
    if (auth_packages / "cryptography").is_dir():
        imports[PYJWT_WITH_CRYPTOGRAPHY] = f"sys.path.insert(0, {str(auth_packages)!r}); import jwt"
    return {name: probe(floor_path, code, root) for name, code in imports.items()}


def library_rows(counts: dict[str, int], floor: int, start: int) -> list[Row]:
    """One row per library: the instructions its probe counts beyond the floor's, and as a share of the floor
    (beyond the interpreter's start), the unit of the budget's 1.3x."""
    base = floor - start
    section = (
        f"Cold start: what one library adds to the floor by itself, instructions (valgrind); the budget leaves "
        f"+{BUDGET - 1:.2f}x of the floor's {base / 1e6:.0f} M for everything a function imports"
    )
    found = []
    for name, counted in counts.items():
        added = counted - floor
        figure = f"+{added / 1e6:.0f} M = +{added / base:.3f}x the floor"
        found.append(Row(section, name, figure, "no budget: a library's share", NO_BUDGET))
    return found


def rows(python: str, runs: int = 10) -> list[Row]:
    """One row per function of template.yaml: its instructions beyond the interpreter's start as a multiple of the
    floor's (the budget's figure, with valgrind), and its median import time as one (the second column)."""
    version, medians = measure(python, runs)
    floor = medians[FLOOR]
    restored = snapstart_functions() & set(medians)
    counts = counted_instructions(python, handlers(), restored) if shutil.which("valgrind") else None
    section = (
        f"Cold start: handler import, instructions (valgrind) beyond the interpreter's start, and median of {runs} "
        f"fresh Python {version} interpreters"
    )
    found = []
    for name, median in medians.items():
        ratio, figure = median / floor, f"{median * 1000:.0f} ms = {median / floor:.2f}x"
        if counts is not None:  # the budget's figure; the time stays as the second column
            beyond = counts[name] - counts["start"]
            ratio = beyond / (counts[FLOOR] - counts["start"])
            figure = f"{beyond / 1e6:.0f} M instructions = {ratio:.2f}x; {figure}"
        if name in restored:  # its time is still the whole import, which the snapshot spares
            figure = f"after a SnapStart restore {figure.replace('; ', '; import ')}"
        if name == FLOOR:
            found.append(Row(section, name, figure, "the reference", NO_BUDGET))
        else:
            found.append(Row(section, name, figure, f"<= {BUDGET}x floor", verdict(ratio <= BUDGET)))
    if counts is not None:
        found += library_rows(instructions_of(python, library_probes()), counts[FLOOR], counts["start"])
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
    parser.add_argument("--baseline", help="a git revision whose handlers are measured in turns with today's")
    args = parser.parse_args()
    if args.baseline:
        section = ""
        for row in against_baseline(args.python, args.runs, args.baseline):
            if row.section != section:
                section = row.section
                print(section)
            print(f"  {row.name:32s} {row.figure:44s} {row.verdict}")
        return

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
