"""evaluation/ (`make eval`): the labelled claims are well formed and balanced, the scores are right by hand, the
cost estimate follows its table and the environment, and the tool refuses to start Bedrock without credentials."""

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import evaluation.__main__ as cli
from clara.domain.analysis.ports import Usage
from clara.domain.analysis.results import AnalysisResult, AnalyzerInfo, Claim, Source, TextAnchor
from clara.integrations.fetcher import FetchedPage
from clara.integrations.web.errors import FetchFailed
from clara.settings import get_settings
from evaluation import cost
from evaluation.dataset import CLAIMS_PATH, LabelledClaim, load_claims
from evaluation.metrics import ERROR, LABELS, collapse, percentile, score

# Every variable from which boto3 could find credentials, so a developer's own never leak into a test.
AWS_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CREDENTIAL_PROCESS",
)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """A clean environment for settings, prices and boto3 (no credentials anywhere), with the settings cache
    cleared before and after so no other test sees this one's ANALYZER."""
    for variable in (*AWS_CREDENTIAL_VARIABLES, cost.INPUT_VARIABLE, cost.OUTPUT_VARIABLE, cost.SEARCH_VARIABLE):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("ANALYZER", "local")
    monkeypatch.delenv("BEDROCK_MODEL_ID", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


# ------------------------------------------------------------------------------------------- the claims


def test_the_claims_file_is_large_balanced_and_without_repeats():
    claims = load_claims()

    assert len(claims) >= 60
    assert len({item.id for item in claims}) == len(claims)
    normalised = [" ".join(item.claim.lower().split()) for item in claims]
    assert len(set(normalised)) == len(normalised)
    counts = Counter(item.label for item in claims)
    assert set(counts) == set(LABELS)
    assert min(counts.values()) >= 15
    assert all(item.note.strip() for item in claims)
    assert not any("http" in item.claim.lower() or "www." in item.claim.lower() for item in claims)


def test_every_line_of_the_claims_file_is_one_object_with_exactly_the_four_fields():
    for line in CLAIMS_PATH.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        assert set(item) == {"id", "claim", "label", "note"}
        assert item["label"] in LABELS


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"id": "x1", "claim": "A claim.", "label": "MOSTLY_TRUE", "note": "n"}', "is not one of"),
        ('{"id": "x1", "claim": "A claim.", "label": "TRUE"}', "exactly id, claim, label and note"),
        ('{"id": "x1", "claim": "", "label": "TRUE", "note": "n"}', "non-empty strings"),
        ("not json", "not JSON"),
    ],
)
def test_a_malformed_line_is_refused_with_its_line_number(tmp_path: Path, line: str, problem: str):
    path = tmp_path / "claims.jsonl"
    path.write_text('{"id": "x0", "claim": "Fine.", "label": "TRUE", "note": "n"}\n' + line + "\n")

    with pytest.raises(ValueError, match=problem) as raised:
        load_claims(path)

    assert f"{path}:2" in str(raised.value)


def test_a_repeated_id_is_refused(tmp_path: Path):
    path = tmp_path / "claims.jsonl"
    path.write_text('{"id": "x0", "claim": "A.", "label": "TRUE", "note": "n"}\n' * 2)

    with pytest.raises(ValueError, match="duplicate id"):
        load_claims(path)


# ------------------------------------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    ("verdict", "label"),
    [
        ("TRUE", "TRUE"),
        ("MOSTLY_TRUE", "TRUE"),
        ("MIXED", "MIXED"),
        ("MOSTLY_FALSE", "FALSE"),
        ("FALSE", "FALSE"),
        ("UNVERIFIABLE", "UNVERIFIABLE"),
    ],
)
def test_verdicts_collapse_onto_the_four_labels(verdict: str, label: str):
    assert collapse(verdict) == label


def test_an_unknown_verdict_is_refused():
    with pytest.raises(ValueError):
        collapse("PANTS_ON_FIRE")


def test_scores_match_a_small_example_computed_by_hand():
    pairs = [
        ("TRUE", "TRUE"),
        ("TRUE", "FALSE"),
        ("FALSE", "FALSE"),
        ("MIXED", "UNVERIFIABLE"),
        ("UNVERIFIABLE", "UNVERIFIABLE"),
        ("UNVERIFIABLE", ERROR),
    ]

    scores = score(pairs)

    # TRUE: P 1/1, R 1/2, F1 2/3. FALSE: P 1/2, R 1/1, F1 2/3. MIXED: no prediction, R 0, F1 0.
    # UNVERIFIABLE: P 1/2, R 1/2, F1 1/2. Macro-F1 (2/3 + 2/3 + 0 + 1/2) / 4 = 11/24.
    assert (scores.total, scores.correct, scores.accuracy) == (6, 3, 0.5)
    by_label = {item.label: item for item in scores.per_label}
    assert by_label["TRUE"].precision == 1.0
    assert by_label["TRUE"].recall == 0.5
    assert by_label["TRUE"].f1 == pytest.approx(2 / 3)
    assert by_label["FALSE"].precision == 0.5
    assert by_label["FALSE"].f1 == pytest.approx(2 / 3)
    assert by_label["MIXED"].precision is None
    assert by_label["MIXED"].recall == 0.0
    assert by_label["MIXED"].f1 == 0.0
    assert by_label["UNVERIFIABLE"].f1 == pytest.approx(0.5)
    assert scores.macro_f1 == pytest.approx(11 / 24)
    assert scores.confusion["TRUE"] == {"TRUE": 1, "FALSE": 1, "MIXED": 0, "UNVERIFIABLE": 0, ERROR: 0}
    assert scores.confusion["UNVERIFIABLE"][ERROR] == 1
    assert scores.confusion["MIXED"]["UNVERIFIABLE"] == 1


def test_a_label_without_claims_or_predictions_is_left_out_of_macro_f1_but_a_false_alarm_is_not():
    scores = score([("TRUE", "TRUE"), ("FALSE", "TRUE")])

    by_label = {item.label: item for item in scores.per_label}
    assert by_label["MIXED"].f1 is None
    assert by_label["UNVERIFIABLE"].f1 is None
    assert by_label["FALSE"].f1 == 0.0
    # TRUE: P 1/2, R 1/1, F1 2/3; FALSE 0; the other two excluded.
    assert scores.macro_f1 == pytest.approx(1 / 3)

    false_alarm = score([("TRUE", "TRUE"), ("TRUE", "MIXED")])
    assert {item.label: item.f1 for item in false_alarm.per_label}["MIXED"] == 0.0
    assert false_alarm.macro_f1 == pytest.approx((2 / 3 + 0) / 2)


def test_no_pairs_score_zero_without_dividing_by_zero():
    scores = score([])

    assert (scores.total, scores.accuracy, scores.macro_f1) == (0, 0.0, None)


def test_percentiles_are_nearest_rank():
    values = [float(value) for value in range(1, 11)]

    assert percentile(values, 90) == 9.0
    assert percentile(values, 50) == 5.0
    assert percentile([3.0], 90) == 3.0
    assert percentile([], 90) == 0.0


# ------------------------------------------------------------------------------------------- cost


def test_cost_of_a_known_model_with_its_region_prefix_uses_the_table(environment: pytest.MonkeyPatch):
    prices = cost.prices_for("us.amazon.nova-2-lite-v1:0")

    assert prices is not None
    assert (prices.input_per_mtok, prices.output_per_mtok, prices.per_search) == (0.30, 2.50, 0.0)
    assert not prices.per_search_from_environment
    assert cost.estimate(prices, 1_000_000, 200_000, grounded_calls=7) == pytest.approx(0.30 + 0.50)
    assert cost.prices_for("global.amazon.nova-premier-v1:0") == cost.Prices(2.50, 12.50, 0.0, False)
    assert cost.base_model_id("eu.amazon.nova-pro-v1:0") == "amazon.nova-pro-v1:0"


def test_environment_variables_override_each_price(environment: pytest.MonkeyPatch):
    environment.setenv(cost.INPUT_VARIABLE, "1.5")
    environment.setenv(cost.SEARCH_VARIABLE, "0.01")

    prices = cost.prices_for("amazon.nova-pro-v1:0")

    assert prices == cost.Prices(
        input_per_mtok=1.5, output_per_mtok=3.20, per_search=0.01, per_search_from_environment=True
    )
    assert cost.estimate(prices, 2_000_000, 1_000_000, grounded_calls=10) == pytest.approx(3.0 + 3.2 + 0.1)


def test_an_unknown_model_has_no_price_unless_both_token_prices_are_set(environment: pytest.MonkeyPatch):
    assert cost.prices_for("anthropic.some-model-v9") is None
    environment.setenv(cost.INPUT_VARIABLE, "3")
    assert cost.prices_for("anthropic.some-model-v9") is None
    environment.setenv(cost.OUTPUT_VARIABLE, "15")
    assert cost.prices_for("anthropic.some-model-v9") == cost.Prices(3.0, 15.0, 0.0, False)
    assert cost.unknown_message("x.y") == (
        "cost: unknown (no price for x.y; set EVAL_PRICE_INPUT_PER_MTOK/EVAL_PRICE_OUTPUT_PER_MTOK)"
    )


@pytest.mark.parametrize("value", ["cheap", "-1", "nan", "inf"])
def test_a_price_variable_that_is_not_a_price_is_refused(environment: pytest.MonkeyPatch, value: str):
    environment.setenv(cost.OUTPUT_VARIABLE, value)

    with pytest.raises(ValueError, match=cost.OUTPUT_VARIABLE):
        cost.prices_for("amazon.nova-lite-v1:0")


# ------------------------------------------------------------------------------------------- the tool


class FakeAnalyzer:
    """Answers every claim with `verdict`, citing one source, and reports a fixed usage, as Bedrock would."""

    def __init__(self, verdict: str = "MOSTLY_FALSE", fail: bool = False) -> None:
        self.verdict, self.fail = verdict, fail
        self.usage = Usage()

    def analyze(self, text: str, attachments: object) -> AnalysisResult:
        self.usage = Usage(model_calls=2, grounded_calls=1, input_tokens=1_000, output_tokens=200)
        if self.fail:
            raise RuntimeError("throttled\nsecond line")
        source = Source(title="Atlas", url="https://example.org/atlas", domain="example.org")
        claim = Claim(text=text, verdict=self.verdict, confidence=0.9, explanation="e", sources=[source])  # type: ignore[arg-type]
        return AnalysisResult(
            verdict=self.verdict,  # type: ignore[arg-type]
            confidence=0.9,
            summary="s",
            claims=[claim],
            attachments=[],
            analyzer=AnalyzerInfo(name="bedrock", model="us.amazon.nova-2-lite-v1:0"),
        )


class NoUsageAnalyzer:
    """An analyzer from before Usage: scored, with zero usage."""

    def analyze(self, text: str, attachments: object) -> AnalysisResult:
        return FakeAnalyzer("TRUE").analyze(text, attachments)


ITEM = LabelledClaim(id="t1", claim="Mars has two moons.", label="FALSE", note="n")


def test_a_claim_is_scored_with_its_collapsed_verdict_sources_and_usage():
    outcome = cli.evaluate(ITEM, build=FakeAnalyzer)

    assert outcome.prediction == "FALSE"
    assert outcome.cited
    assert outcome.usage == Usage(model_calls=2, grounded_calls=1, input_tokens=1_000, output_tokens=200)
    assert outcome.error is None
    assert outcome.seconds >= 0


def test_an_analyzer_without_usage_counts_as_zero_usage():
    outcome = cli.evaluate(ITEM, build=NoUsageAnalyzer)  # type: ignore[arg-type]  # lacks usage on purpose

    assert (outcome.prediction, outcome.usage) == ("TRUE", Usage())


def test_an_analyze_that_raises_is_an_error_with_a_one_line_note(capsys: pytest.CaptureFixture[str]):
    outcome = cli.evaluate(ITEM, build=lambda: FakeAnalyzer(fail=True))

    assert outcome.prediction == ERROR
    assert not outcome.cited
    assert outcome.error == "RuntimeError: throttled"
    assert outcome.usage.model_calls == 2  # what was spent before the failure still costs
    assert capsys.readouterr().err == "eval: t1 failed (RuntimeError: throttled)\n"


def test_bedrock_without_credentials_exits_2_before_running_anything(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    environment.setenv("ANALYZER", "bedrock")
    environment.setenv("AWS_DEFAULT_REGION", "us-east-1")

    def no_analyzer() -> None:
        raise AssertionError("an analyzer was built")

    environment.setattr(cli, "analyzer_for_settings", no_analyzer)

    assert cli.main(["--limit", "1"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "make eval with ANALYZER=bedrock needs AWS credentials with Bedrock access in a US region" in captured.err
    assert "Run ANALYZER=local make eval to evaluate offline." in captured.err


def test_bedrock_in_a_region_outside_the_us_is_warned_about(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    environment.setenv("AWS_ACCESS_KEY_ID", "testing")
    environment.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    environment.setenv("AWS_DEFAULT_REGION", "eu-west-1")

    assert cli.bedrock_ready()

    assert "web grounding" in capsys.readouterr().err
    environment.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert cli.bedrock_ready()
    assert capsys.readouterr().err == ""


def test_the_local_analyzer_on_eight_claims_prints_the_table(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    first = load_claims()[:8]
    unverifiable = sum(item.label == "UNVERIFIABLE" for item in first)
    figures_path = tmp_path / "figures.json"

    assert cli.main(["--limit", "8", "--json", str(figures_path)]) == 0

    lines = capsys.readouterr().out.splitlines()
    # The local analyzer answers UNVERIFIABLE to everything: right exactly on the UNVERIFIABLE claims.
    assert f"accuracy                 {unverifiable / 8:.1%} ({unverifiable}/8)" in lines
    assert "analyzer                 local (model: none)" in lines
    assert "estimated cost           0 USD (no model calls)" in lines
    assert "sources with a quote     - (no sources)" in lines  # the local analyzer cites nothing
    assert "claims anchored          100.0% (8/8 claims)" in lines  # its claims are sentences of the text sent
    assert any(line.startswith("claims evaluated         8 from ") for line in lines)
    assert any(line.split()[:2] == ["UNVERIFIABLE", str(unverifiable)] for line in lines)
    figures = json.loads(figures_path.read_text())
    assert figures["accuracy"] == unverifiable / 8
    assert figures["errors"] == 0
    assert sum(figures["confusion"][label]["UNVERIFIABLE"] for label in LABELS) == 8


def test_a_bedrock_run_reports_usage_and_an_estimated_cost(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    environment.setenv("ANALYZER", "bedrock")
    environment.setenv("AWS_ACCESS_KEY_ID", "testing")
    environment.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    environment.setenv("AWS_DEFAULT_REGION", "us-east-1")
    environment.setattr(cli, "analyzer_for_settings", FakeAnalyzer)
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        '{"id": "a", "claim": "Mars is larger than the Earth.", "label": "FALSE", "note": "n"}\n'
        '{"id": "b", "claim": "Mars has two moons.", "label": "TRUE", "note": "n"}\n'
    )

    assert cli.main(["--claims", str(claims)]) == 0

    out = capsys.readouterr().out
    assert "bedrock (model: us.amazon.nova-2-lite-v1:0)" in out
    assert "accuracy                 50.0% (1/2)" in out
    assert "cited a source           100.0% (2/2 tasks)" in out
    assert "tokens in                2000 in all, 1000.0 per task" in out
    assert "grounded calls per task  mean 1.00, max 1" in out
    # 2,000 tokens in at 0.30 and 400 out at 2.50 USD per million: 0.0006 + 0.001 USD.
    assert "estimated cost           0.0016 USD in all, 0.000800 USD per task (estimate)" in out
    assert "web grounding's own charge not included: set EVAL_PRICE_PER_SEARCH" in out
    assert "check the AWS pricing page" in out


def test_an_unknown_model_reports_an_unknown_cost(environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    environment.setenv("ANALYZER", "bedrock")
    environment.setenv("BEDROCK_MODEL_ID", "us.example.model-v1:0")
    environment.setenv("AWS_ACCESS_KEY_ID", "testing")
    environment.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    environment.setenv("AWS_DEFAULT_REGION", "us-east-1")
    environment.setattr(cli, "analyzer_for_settings", FakeAnalyzer)

    assert cli.main(["--limit", "1"]) == 0

    out = capsys.readouterr().out
    assert "estimated cost           unknown (see the note below)" in out
    assert (
        "note: cost: unknown (no price for us.example.model-v1:0; "
        "set EVAL_PRICE_INPUT_PER_MTOK/EVAL_PRICE_OUTPUT_PER_MTOK)"
    ) in out


# ------------------------------------------------------------------------------------------- checkable evidence


def quoted_result(quotes: list[str | None]) -> AnalysisResult:
    sources = [Source(title=f"Page {n}", url=f"https://example.org/{n}", quote=quote) for n, quote in enumerate(quotes)]
    claims = [
        Claim(text="Mars has two moons.", verdict="TRUE", confidence=1, explanation="e", sources=sources),
        Claim(text="Mars is red.", verdict="TRUE", confidence=1, explanation="e", anchor=TextAnchor(start=0, end=12)),
    ]
    info = AnalyzerInfo(name="bedrock", model=None)
    return AnalysisResult(verdict="TRUE", confidence=1, summary="s", claims=claims, attachments=[], analyzer=info)


def test_a_quote_counts_as_verbatim_only_if_its_page_holds_it_when_read_again():
    pages = {"https://example.org/0": "Mars has  two small\nMOONS, Phobos and Deimos.", "https://example.org/1": "Red."}
    read: list[str] = []

    def read_page(url: str) -> FetchedPage:
        read.append(url)
        if url not in pages:
            raise FetchFailed("The site answered 404.")
        return FetchedPage(url, "t", pages[url], "text/html")

    quotes = ["mars has two small moons", "A model wrote this.", "Gone now.", None]
    evidence = cli.checkable(quoted_result(quotes), read_page)

    assert evidence == cli.Evidence(sources=4, quoted=3, verbatim=1, claims=2, anchored=1)
    assert read == ["https://example.org/0", "https://example.org/1", "https://example.org/2"]  # never an unquoted one


def test_the_stand_in_run_reports_quotes_anchors_and_reading_time(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    figures_path = tmp_path / "figures.json"

    assert cli.main(["--stand-in", "--limit", "4", "--json", str(figures_path)]) == 0

    out = capsys.readouterr().out
    assert "bedrock (stand-in) (model: us.amazon.nova-2-lite-v1:0)" in out
    figures = json.loads(figures_path.read_text())
    quotes, anchors = figures["quotes"], figures["anchors"]
    # Two citations per search, the second a 404 by design: at most half the sources can be quoted.
    assert quotes["sources"] == 8 and 0 < quotes["quoted"] <= 4
    assert quotes["verbatim_share"] == 1.0 and f"100.0% ({quotes['quoted']}/{quotes['quoted']} quotes)" in out
    assert anchors["share"] == 1.0 and "claims anchored          100.0% (4/4 claims)" in out
    assert 0 <= figures["reading_cited_pages_seconds"]["median"] <= figures["reading_cited_pages_seconds"]["p90"]
    assert "reading cited pages      median " in out
    assert get_settings().analyzer == "local"  # the stand-in's settings are gone with it
