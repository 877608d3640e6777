"""Checkable evidence end to end in one process: the Bedrock analyzer against the stand-in Converse endpoint, whose
grounded answers cite pages it serves on 127.0.0.1 (read by the real safe fetcher, with FETCH_ALLOW_LOOPBACK).
Each source shows a passage of the page the system read and the verdict step's stance, never a model's words;
each claim points back to where the customer stated it."""

from collections.abc import Iterator

import boto3
import pytest

from clara.domain.analysis.results import TextAnchor
from clara.integrations.analyzers.bedrock import BedrockAnalyzer
from clara.integrations.analyzers.passages import flat
from clara.integrations.fetcher import fetcher_for_settings
from clara.settings import get_settings
from harness.fake_bedrock import INVENTED_QUOTE, FakeBedrock, fake_bedrock

HEIGHT = "The Eiffel Tower is 330 metres tall today, including the antennas at its top."  # on the cited page
TEXT = "Breaking news!  The Eiffel Tower is 500 metres tall.\nIt was completed in 1889 in Paris."


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("FETCH_ALLOW_LOOPBACK", "true")  # the cited pages are on the stand-in's loopback port
    get_settings.cache_clear()
    with fake_bedrock() as fake:
        yield fake
    get_settings.cache_clear()


def analyzer(site: FakeBedrock) -> BedrockAnalyzer:
    bedrock = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=site.url)
    return BedrockAnalyzer(bedrock, model_id="us.amazon.nova-2-lite-v1:0", concurrency=1)


def test_each_source_quotes_the_page_read_there_with_its_stance_and_each_claim_is_anchored(site: FakeBedrock) -> None:
    text = f"{TEXT} Source: {site.article_url}"

    result = analyzer(site).analyze(text, [])

    first, second = result.claims
    for claim in (first, second):
        assert isinstance(claim.anchor, TextAnchor)
        assert text[claim.anchor.start : claim.anchor.end] == claim.text
    assert [(source.url, source.quote, source.stance) for source in first.sources] == [
        # The model pointed at a passage this page does not hold: the page's best match for the claim is shown.
        (f"{site.url}/cited/1/1", HEIGHT, "refutes"),
        (f"{site.url}/cited/1/2", None, "refutes"),  # a 404: still cited, nothing to quote
        # The model pointed at a passage the linked page holds: that passage, as the page has it.
        (site.article_url, "It was the tallest man-made structure in the world until 1930", "supports"),
    ]  # fmt: skip
    assert [source.stance for source in second.sources] == ["supports", "supports", "supports"]
    assert second.sources[0].quote is not None and "1889 in Paris" in second.sources[0].quote
    assert INVENTED_QUOTE not in result.model_dump_json()
    # Every quote shown is on the page at its URL, as the safe fetcher reads it now.
    for claim in result.claims:
        for source in claim.sources:
            if source.quote is not None:
                assert flat(source.quote).lower() in flat(fetcher_for_settings().fetch(source.url).text).lower()


def test_reading_the_cited_pages_adds_no_model_call(site: FakeBedrock) -> None:
    bedrock = analyzer(site)

    result = bedrock.analyze(TEXT, [])

    # 1 claims call + 1 grounded call per claim + 1 verdict call, as before quotes.
    assert (bedrock.usage.model_calls, bedrock.usage.grounded_calls) == (4, 2)
    assert len(site.requests) == 4
    assert result.claims[0].sources[0].quote is not None


def test_a_cited_page_over_the_fetchers_size_cap_is_not_quoted_but_stays_a_source(
    site: FakeBedrock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FETCH_MAX_BYTES", "200")  # the cited page is larger: the fetcher refuses it
    get_settings.cache_clear()

    result = analyzer(site).analyze(TEXT, [])

    sources = result.claims[0].sources
    assert [source.url for source in sources] == [url for url, _ in site.cited_urls(1)]
    assert all(source.quote is None and source.stance == "refutes" for source in sources)
