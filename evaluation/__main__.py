"""`python -m evaluation` (`make eval`): the configured analyzer (ANALYZER=local or bedrock) run on the labelled
claims of evaluation/claims.jsonl, and its accuracy, F1, sources, quotes, anchors, latency, usage and estimated cost
in one table. `--stand-in` runs the Bedrock analyzer against the stand-in Converse endpoint and cited pages on
loopback (harness.fake_bedrock): offline, it measures quotes, anchors and the time reading cited pages adds, not
judgement.

Importing the package first (evaluation/__init__.py) puts the layer's `clara` on sys.path, as in Lambda.

Like `make bench`, it reports and does not judge: it exits 0 whatever the figures are. It exits 2 only when it
cannot start: ANALYZER=bedrock without AWS credentials, an unreadable claims file or a malformed price variable.
"""

import argparse
import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from clara.domain.analysis.ports import Analyzer, Usage
from clara.domain.analysis.results import AnalysisResult
from clara.integrations.analyzers import analyzer_for_settings
from clara.integrations.analyzers.passages import flat
from clara.integrations.fetcher import FetchedPage, fetcher_for_settings
from clara.integrations.web.errors import FetchError
from clara.settings import get_settings
from evaluation import cost
from evaluation.dataset import CLAIMS_PATH, LabelledClaim, load_claims
from evaluation.metrics import ERROR, LABELS, PREDICTIONS, collapse, median, percentile, score
from harness.stdout import stdout_redirected

NO_CREDENTIALS = (
    "make eval with ANALYZER=bedrock needs AWS credentials with Bedrock access in a US region (AWS_PROFILE, or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_DEFAULT_REGION=us-east-1 for example); none were found. "
    "Run ANALYZER=local make eval to evaluate offline."
)


@dataclass(frozen=True)
class Outcome:
    """One claim's run: the collapsed prediction (ERROR when analyze() raised) and what it took."""

    id: str
    label: str
    prediction: str
    seconds: float
    usage: Usage
    cited: bool  # at least one claim of the result cites at least one source
    error: str | None = None
    evidence: "Evidence | None" = None


@dataclass(frozen=True)
class Evidence:
    """How checkable one result is: its sources, those with a quote, quotes found again on their page (read anew
    by the safe fetcher), its claims and those anchored."""

    sources: int = 0
    quoted: int = 0
    verbatim: int = 0
    claims: int = 0
    anchored: int = 0


def checkable(result: AnalysisResult, read_page: Callable[[str], FetchedPage]) -> Evidence:
    sources = [source for claim in result.claims for source in claim.sources]
    quoted = [source for source in sources if source.quote is not None]
    pages: dict[str, str | None] = {}
    for source in quoted:
        if source.url not in pages:
            try:
                pages[source.url] = flat(read_page(source.url).text).lower()
            except FetchError:
                pages[source.url] = None  # unreadable now: its quote cannot be confirmed
    verbatim = sum(flat(source.quote or "").lower() in (pages[source.url] or "\0") for source in quoted)
    anchored = sum(claim.anchor is not None for claim in result.claims)
    return Evidence(len(sources), len(quoted), verbatim, len(result.claims), anchored)


def bedrock_ready() -> bool:
    """Checked before any claim runs: without credentials every call would fail, slowly, one claim at a time.
    A region outside the US only warns: the model may answer, but Nova web grounding is offered in US regions."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.Session()
        credentials = session.get_credentials()
    except BotoCoreError:  # a profile named in AWS_PROFILE that does not exist, say
        credentials = None
    if credentials is None:
        print(NO_CREDENTIALS, file=sys.stderr)
        return False
    region = session.region_name
    if not region or not region.startswith("us-"):
        print(
            f"warning: the AWS region is {region or 'not set'}: web grounding (Nova's web search) is offered in "
            "US regions only, so grounded calls may fail; set AWS_DEFAULT_REGION=us-east-1 for example.",
            file=sys.stderr,
        )
    return True


def evaluate(
    item: LabelledClaim,
    build: Callable[[], Analyzer] | None = None,
    read_page: Callable[[str], FetchedPage] | None = None,
) -> Outcome:
    """A fresh analyzer per claim (analyzer_for_settings unless `build` is given), so `usage` is this claim's
    alone and no state leaks from one to the next. A failure to build one is a setup fault and propagates.
    Quotes are checked against their pages after the task's time is taken."""
    analyzer = (build or analyzer_for_settings)()
    started = time.perf_counter()
    try:
        result = analyzer.analyze(item.claim, [])
    except Exception as error:  # any failure is a wrong answer, reported, and the run goes on
        seconds = time.perf_counter() - started
        message = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        print(f"eval: {item.id} failed ({message})", file=sys.stderr)
        return Outcome(item.id, item.label, ERROR, seconds, _usage(analyzer), cited=False, error=message)
    seconds = time.perf_counter() - started
    cited = any(claim.sources for claim in result.claims)
    evidence = checkable(result, read_page or fetcher_for_settings().fetch)
    return Outcome(item.id, item.label, collapse(result.verdict), seconds, _usage(analyzer), cited, None, evidence)


def _usage(analyzer: Analyzer) -> Usage:
    """A copy of the analyzer's usage, zero when it does not report any (an analyzer from before Usage)."""
    return dataclasses.replace(getattr(analyzer, "usage", None) or Usage())


def figures(
    outcomes: Sequence[Outcome], *, analyzer: str, model: str | None, prices: cost.Prices | None, claims_path: Path
) -> dict[str, Any]:
    """Every figure of the report, as JSON-ready data: the table is printed from it and --json writes it."""
    scores = score((outcome.label, outcome.prediction) for outcome in outcomes)
    count = len(outcomes)
    latencies = [outcome.seconds for outcome in outcomes]
    usages = [outcome.usage for outcome in outcomes]
    input_tokens = sum(usage.input_tokens for usage in usages)
    output_tokens = sum(usage.output_tokens for usage in usages)
    model_calls = [usage.model_calls for usage in usages]
    grounded_calls = [usage.grounded_calls for usage in usages]
    cited = sum(outcome.cited for outcome in outcomes)
    evidence = [outcome.evidence or Evidence() for outcome in outcomes]
    sources, quoted, verbatim = (
        sum(getattr(item, name) for item in evidence) for name in ("sources", "quoted", "verbatim")
    )
    claims, anchored = sum(item.claims for item in evidence), sum(item.anchored for item in evidence)
    reading = [usage.reading_seconds for usage in usages]
    return {
        "analyzer": analyzer,
        "model": model,
        "claims_file": _shown(claims_path),
        "claims_evaluated": count,
        "errors": sum(outcome.prediction == ERROR for outcome in outcomes),
        "correct": scores.correct,
        "accuracy": scores.accuracy,
        "macro_f1": scores.macro_f1,
        "per_label": {
            item.label: {
                "support": item.support,
                "predicted": item.predicted,
                "correct": item.correct,
                "precision": item.precision,
                "recall": item.recall,
                "f1": item.f1,
            }
            for item in scores.per_label
        },
        "confusion": scores.confusion,
        "cited_source": {"tasks": cited, "share": cited / count if count else 0.0},
        "quotes": {
            "sources": sources,
            "quoted": quoted,
            "quoted_share": quoted / sources if sources else None,
            "verbatim": verbatim,
            "verbatim_share": verbatim / quoted if quoted else None,
        },
        "anchors": {"claims": claims, "anchored": anchored, "share": anchored / claims if claims else None},
        "latency_seconds": {"median": median(latencies), "p90": percentile(latencies, 90), "total": sum(latencies)},
        "reading_cited_pages_seconds": {"median": median(reading), "p90": percentile(reading, 90)},
        "tokens": {
            "input_total": input_tokens,
            "output_total": output_tokens,
            "input_per_task": input_tokens / count if count else 0.0,
            "output_per_task": output_tokens / count if count else 0.0,
        },
        "model_calls": _calls(model_calls),
        "grounded_calls": _calls(grounded_calls),
        "cost": _cost(prices, model, input_tokens, output_tokens, sum(model_calls), sum(grounded_calls), count),
        "outcomes": [
            {
                "id": outcome.id,
                "label": outcome.label,
                "prediction": outcome.prediction,
                "seconds": outcome.seconds,
                "cited": outcome.cited,
                "usage": dataclasses.asdict(outcome.usage),
                "evidence": dataclasses.asdict(outcome.evidence) if outcome.evidence else None,
                "error": outcome.error,
            }
            for outcome in outcomes
        ],
    }


def _shown(path: Path) -> str:
    """The claims file as the reader would type it: relative to the working directory when inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(Path.cwd())) if resolved.is_relative_to(Path.cwd()) else str(resolved)


def _calls(values: Sequence[int]) -> dict[str, float]:
    return {"total": sum(values), "mean": sum(values) / len(values) if values else 0.0, "max": max(values, default=0)}


def _cost(
    prices: cost.Prices | None,
    model: str | None,
    input_tokens: int,
    output_tokens: int,
    model_calls: int,
    grounded_calls: int,
    count: int,
) -> dict[str, Any]:
    """The estimate and the notes that qualify it: a figure without its assumptions would mislead."""
    assumptions = (
        f"estimates only: the prices are configurable assumptions ({cost.INPUT_VARIABLE}, {cost.OUTPUT_VARIABLE}, "
        f"{cost.SEARCH_VARIABLE}); check the AWS pricing page, {cost.PRICING_PAGE}"
    )
    if prices is None:
        if model_calls or grounded_calls or input_tokens or output_tokens:
            return {"usd_total": None, "usd_per_task": None, "prices": None, "notes": [cost.unknown_message(model)]}
        return {
            "usd_total": 0.0,
            "usd_per_task": 0.0,
            "prices": None,
            "notes": ["no model or grounded calls, so no cost"],
        }
    total = cost.estimate(prices, input_tokens, output_tokens, grounded_calls)
    notes = [assumptions]
    if not prices.per_search_from_environment:
        notes.append(f"web grounding's own charge not included: set {cost.SEARCH_VARIABLE}")
    return {
        "usd_total": total,
        "usd_per_task": total / count if count else 0.0,
        "prices": dataclasses.asdict(prices),
        "notes": notes,
    }


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned (names), the rest right-aligned (numbers)."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _seconds(value: float) -> str:
    """Milliseconds of precision: enough for a model call, and the local analyzer's microseconds read as such."""
    return "<0.001 s" if 0 < value < 0.0005 else f"{value:.3f} s"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _share(share: float | None, part: int, whole: int, of: str) -> str:
    return f"- (no {of})" if share is None else f"{share:.1%} ({part}/{whole} {of})"


def report(data: dict[str, Any]) -> list[str]:
    """The table's lines, from the figures (so what is printed and what --json writes cannot disagree)."""
    count = data["claims_evaluated"]
    model = data["model"] or "none"
    included = [label for label, item in data["per_label"].items() if item["f1"] is not None]
    macro = "-" if data["macro_f1"] is None else f"{data['macro_f1']:.3f}"
    excluded = [label for label in LABELS if label not in included]
    macro_scope = f"over {len(included)} labels" + (
        f"; {', '.join(excluded)} left out (no claims, no predictions)" if excluded else ""
    )
    latency, tokens, reading = data["latency_seconds"], data["tokens"], data["reading_cited_pages_seconds"]
    quotes, anchors = data["quotes"], data["anchors"]
    model_calls, grounded = data["model_calls"], data["grounded_calls"]
    spend = data["cost"]
    if spend["usd_total"] is None:
        estimated = "unknown (see the note below)"
    elif spend["prices"] is None:
        estimated = "0 USD (no model calls)"
    else:
        estimated = f"{spend['usd_total']:.4f} USD in all, {spend['usd_per_task']:.6f} USD per task (estimate)"
    summary = [
        ("analyzer", f"{data['analyzer']} (model: {model})"),
        ("claims evaluated", f"{count} from {data['claims_file']} (errors: {data['errors']})"),
        ("accuracy", f"{data['accuracy']:.1%} ({data['correct']}/{count})"),
        ("macro-F1", f"{macro} ({macro_scope})"),
        ("cited a source", f"{data['cited_source']['share']:.1%} ({data['cited_source']['tasks']}/{count} tasks)"),
        ("sources with a quote", _share(quotes["quoted_share"], quotes["quoted"], quotes["sources"], "sources")),
        ("quotes verbatim on page", _share(quotes["verbatim_share"], quotes["verbatim"], quotes["quoted"], "quotes")),
        ("claims anchored", _share(anchors["share"], anchors["anchored"], anchors["claims"], "claims")),
        ("latency per task", f"median {_seconds(latency['median'])}, p90 {_seconds(latency['p90'])}"),
        ("reading cited pages", f"median {_seconds(reading['median'])}, p90 {_seconds(reading['p90'])} per task"),
        ("tokens in", f"{tokens['input_total']} in all, {tokens['input_per_task']:.1f} per task"),
        ("tokens out", f"{tokens['output_total']} in all, {tokens['output_per_task']:.1f} per task"),
        ("model calls per task", f"mean {model_calls['mean']:.2f}, max {model_calls['max']}"),
        ("grounded calls per task", f"mean {grounded['mean']:.2f}, max {grounded['max']}"),
        ("estimated cost", estimated),
    ]
    name_width = max(len(name) for name, _ in summary)
    lines = [f"{name.ljust(name_width)}  {value}" for name, value in summary]

    per_label = [("label", "support", "predicted", "correct", "precision", "recall", "F1")]
    for label, item in data["per_label"].items():
        per_label.append(
            (
                label,
                str(item["support"]),
                str(item["predicted"]),
                str(item["correct"]),
                _ratio(item["precision"]),
                _ratio(item["recall"]),
                _ratio(item["f1"]),
            )
        )
    confusion = [("label \\ prediction", *PREDICTIONS)]
    confusion += [
        (label, *(str(row[prediction]) for prediction in PREDICTIONS)) for label, row in data["confusion"].items()
    ]

    blocks = [lines, aligned(per_label), aligned(confusion)]
    width = max(len(line) for block in blocks for line in block)
    rule = "-" * width
    output = [f"Clara evaluation: {data['analyzer']} analyzer on {count} labelled claims", rule]
    for block in blocks:
        output += [*block, rule]
    output += [f"note: {note}" for note in spend["notes"]]
    output.append("note: MOSTLY_TRUE scores as TRUE and MOSTLY_FALSE as FALSE; an analyze() that raised is ERROR.")
    return output


# The page each stand-in citation leads to: the labelled claim's note (the fact behind its label) among other text,
# so quotes are matched on a page that bears on the claim without repeating it.
STAND_IN_PAGE = """<html><head><title>Reference</title></head><body><nav>Home</nav><article>
<p>This reference page collects what published sources say on the question, with the dates they were checked.</p>
<p>{note}</p>
<p>Corrections are welcome: write to the editors, who review every page once a year.</p>
</article></body></html>"""


@contextmanager
def stand_in() -> Iterator[Callable[[str], None]]:
    """The Bedrock analyzer against the stand-in Converse endpoint on loopback, whose citations lead to pages it
    serves (one read, one a 404), through the real safe fetcher; yields a setter for the note the page shows."""
    from harness.fake_bedrock import fake_bedrock

    note = [""]
    variables = ("ANALYZER", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "FETCH_ALLOW_LOOPBACK", "GROUNDING_CONCURRENCY")
    saved = {name: os.environ.get(name) for name in (*variables, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    with fake_bedrock(lambda _claim: STAND_IN_PAGE.format(note=escape(note[0])).encode()) as fake:
        # Stand-in credentials: no real ones are ever sent to the stand-in.
        os.environ.update(
            ANALYZER="bedrock",
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake.url,
            FETCH_ALLOW_LOOPBACK="true",
            GROUNDING_CONCURRENCY="1",
            AWS_ACCESS_KEY_ID="stand-in",
            AWS_SECRET_ACCESS_KEY="stand-in",  # noqa: S106 - a placeholder the stand-in ignores
        )
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        get_settings.cache_clear()
        try:
            yield lambda text: note.__setitem__(0, text)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            get_settings.cache_clear()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--limit", type=int, help="evaluate only the first N claims (N >= 1)")
    parser.add_argument("--claims", type=Path, default=CLAIMS_PATH, help="the labelled claims (JSON lines)")
    parser.add_argument("--json", type=Path, dest="json_path", help="also write every figure to this JSON file")
    parser.add_argument(
        "--stand-in",
        action="store_true",
        help="the Bedrock analyzer against the stand-in Converse endpoint and cited pages on loopback (offline: "
        "measures quotes, anchors and reading time; its verdicts and cost mean nothing)",
    )
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be 1 or more")
    # As in Lambda, whose runtime configures the root logger first: only warnings from libraries reach stderr.
    warnings_only = logging.StreamHandler()
    warnings_only.setLevel(logging.WARNING)
    logging.basicConfig(handlers=[warnings_only])

    if args.stand_in:
        with stand_in() as show_note:
            return run(args, show_note)
    return run(args)


def run(args: argparse.Namespace, show_note: Callable[[str], None] | None = None) -> int:
    """Every claim through the configured analyzer (with `show_note`, the stand-in's), then the table."""
    settings = get_settings()
    if settings.analyzer == "bedrock" and show_note is None and not bedrock_ready():
        return 2
    model = settings.bedrock_model_id if settings.analyzer == "bedrock" else None
    try:
        prices = cost.prices_for(model)
        claims = load_claims(args.claims)
    except (OSError, ValueError) as error:
        print(f"eval: {error}", file=sys.stderr)
        return 2
    claims = claims[: args.limit] if args.limit else claims

    outcomes: list[Outcome] = []
    # The analyzers' log lines would bury the table: to stderr meanwhile, visible, while stdout stays the report.
    with stdout_redirected("stderr"):
        for number, item in enumerate(claims, start=1):
            if show_note:
                show_note(item.note)
            outcome = evaluate(item)
            outcomes.append(outcome)
            print(
                f"eval: {number}/{len(claims)} {item.id} {item.label} -> {outcome.prediction} "
                f"({outcome.seconds:.2f} s)",
                file=sys.stderr,
                flush=True,
            )

    analyzer = f"{settings.analyzer} (stand-in)" if show_note else settings.analyzer
    data = figures(outcomes, analyzer=analyzer, model=model, prices=prices, claims_path=args.claims)
    lines = report(data)
    if show_note:
        lines.append("note: stand-in Converse endpoint and pages: verdicts, tokens and cost are not a model's.")
    print("\n".join(lines))
    if args.json_path:
        args.json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
