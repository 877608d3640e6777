"""The Bedrock analyzer against real boto3 clients whose calls botocore's Stubber answers (no network): the
requests it builds for its three steps (claims, grounded evidence, verdicts), how it reads the answers (only cited
URLs become sources), its bounds, and which failures are permanent."""

import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from clara.domain.analysis.ports import AttachmentInput, PermanentAnalysisError
from clara.domain.analysis.results import AnalysisResult, TextAnchor, TimeAnchor
from clara.integrations.analyzers.bedrock import BedrockAnalyzer, ModelOutputError, document_name
from clara.integrations.analyzers.evidence import CONTENT_ONLY, LINK_REMOVED, NO_EVIDENCE
from clara.integrations.analyzers.prompts import CLAIMS_TOOL, TOOL_NAME, tool_input_schema
from clara.integrations.analyzers.transcription import TranscriptionPending
from clara.integrations.fetcher import FetchedPage, LinkOutcome
from clara.integrations.web.errors import FetchFailed
from clara.settings import get_settings

MODEL = "us.amazon.nova-2-lite-v1:0"
BUCKET = "clara-attachments"
VERDICTS = {"TRUE", "MOSTLY_TRUE", "MIXED", "MOSTLY_FALSE", "FALSE", "UNVERIFIABLE"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.7 minimal"
CLAIM = "The Eiffel Tower is 500 metres tall."
CITED = [
    ("https://www.toureiffel.paris/en/the-monument/key-figures", "Key figures", "toureiffel.paris"),
    ("https://en.wikipedia.org/wiki/Eiffel_Tower", None, "en.wikipedia.org"),
]
PAGE = """Key figures

The Eiffel Tower is
330 metres (1,083 ft) tall, antennas included.

Weight: 10,100 tonnes."""
INVENTED = [
    "https://made-up.example/eiffel-height",
    "https://invented-in-tool-input.example/x",
    "www.fabricated-source.example/page",
    "bogus-citation.example/report.pdf",
]

VERDICT = {
    "verdict": "FALSE",
    "confidence": 0.9,
    "summary": "The tower is about 330 metres tall.",
    "claims": [
        {
            "text": CLAIM,
            "verdict": "FALSE",
            "confidence": 0.95,
            "explanation": "It is about 330 metres tall including antennas.",
            "evidence_ids": ["E1", "E2"],
        }
    ],
}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class Clock:
    """A monotonic clock the test moves: each Converse call takes `per_call` seconds."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.per_call = 0.0

    def __call__(self) -> float:
        return self.now


class Clients:
    def __init__(self) -> None:
        self.bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")
        self.transcribe = boto3.client("transcribe", region_name="us-east-1")
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.stubs = {name: Stubber(getattr(self, name)) for name in ("bedrock", "transcribe", "s3")}
        self.sleeps: list[float] = []
        self.links: list[LinkOutcome] = []
        self.pages: dict[str, FetchedPage] = {}  # the cited pages the fake fetcher serves; others fail
        self.pages_read: list[str] = []
        self.reading_seconds = 0.0  # how long reading the links takes, on the test's clock
        self.clock = Clock()
        self.requests: list[dict[str, Any]] = []
        self.bedrock.meta.events.register("provide-client-params.bedrock-runtime.Converse", self._seen)

    def _seen(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(params)
        self.clock.now += self.clock.per_call

    def analyzer(self, web_grounding: bool = True) -> BedrockAnalyzer:
        return BedrockAnalyzer(
            self.bedrock,
            self.transcribe,
            self.s3,
            model_id=MODEL,
            clock=lambda seconds: self.sleeps.append(seconds),
            timer=self.clock,
            read_links=self._read_links,
            read_page=self._read_page,
            web_grounding=web_grounding,
            concurrency=1,  # one grounded call at a time: the stubbed answers are taken in order
        )

    def _read_links(self, text: str) -> list[LinkOutcome]:
        self.clock.now += self.reading_seconds
        return self.links

    def _read_page(self, url: str) -> FetchedPage:
        self.pages_read.append(url)
        if url not in self.pages:
            raise FetchFailed("The site answered 404.")
        return self.pages[url]

    def answer(self, response: dict[str, Any], expected: dict[str, Any] | None = None) -> None:
        self.stubs["bedrock"].add_response("converse", response, expected)


@pytest.fixture
def clients() -> Iterator[Clients]:
    made = Clients()
    for stub in made.stubs.values():
        stub.activate()
    yield made
    for stub in made.stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


def converse_response(content: list[dict[str, Any]], stop_reason: str = "tool_use") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": 1200, "outputTokens": 240, "totalTokens": 1440},
        "metrics": {"latencyMs": 2100},
    }


def tool_use(tool_input: Any, name: str = TOOL_NAME) -> list[dict[str, Any]]:
    return [{"toolUse": {"toolUseId": "tooluse_abc123", "name": name, "input": tool_input}}]


def claims_answer(*claims: str) -> dict[str, Any]:
    return converse_response(tool_use({"claims": [{"text": claim} for claim in claims]}, CLAIMS_TOOL))


def grounded_answer(text: str, citations: list[tuple[str, str | None, str]]) -> dict[str, Any]:
    """A grounded answer as Nova returns it: text blocks, and a citationsContent block naming the pages read."""
    cited = [
        {
            **({"title": title} if title else {}),
            "sourceContent": [{"text": f"Quoted from {domain}: the tower is 330 m tall."}],
            "location": {"web": {"url": url, "domain": domain}},
        }
        for url, title, domain in citations
    ]
    content: list[dict[str, Any]] = [{"text": text}]
    if cited:
        content.append({"citationsContent": {"content": [{"text": "It is 330 m tall."}], "citations": cited}})
    return converse_response(content, stop_reason="end_turn")


def verdict_answer(draft: Any = VERDICT) -> dict[str, Any]:
    return converse_response(tool_use(draft))


def forced(tool: str, content: Any = ANY) -> dict[str, Any]:
    return {
        "modelId": MODEL,
        "messages": [{"role": "user", "content": content}],
        "system": [{"text": ANY}],
        "toolConfig": {
            "tools": [{"toolSpec": {"name": tool, "description": ANY, "inputSchema": {"json": ANY}}}],
            "toolChoice": {"tool": {"name": tool}},
        },
        "inferenceConfig": {"maxTokens": 4096, "temperature": 0},
    }


GROUNDED_REQUEST = {
    "modelId": MODEL,
    "messages": [{"role": "user", "content": [{"text": ANY}]}],
    "system": [{"text": ANY}],
    "toolConfig": {"tools": [{"systemTool": {"name": "nova_grounding"}}]},
    "inferenceConfig": {"maxTokens": 1024, "temperature": 0},
}


def attachment(name: str, media_type: str, kind: Any, key: str, content: bytes = b"") -> AttachmentInput:
    def read() -> bytes:
        if not content:
            raise AssertionError(f"{name} is sent by its S3 location: its bytes must not be read")
        return content

    return AttachmentInput(name, media_type, kind, len(content) or 1000, f"s3://{BUCKET}/{key}", read)


def assert_valid(result: AnalysisResult) -> None:
    assert result.verdict in VERDICTS and 0 <= result.confidence <= 1
    assert all(claim.verdict in VERDICTS and 0 <= claim.confidence <= 1 for claim in result.claims)
    assert result.analyzer.model_dump() == {"name": "bedrock", "model": MODEL}


def one_claim_checked(clients: Clients, draft: Any = VERDICT, citations: Any = CITED) -> AnalysisResult:
    clients.answer(claims_answer(CLAIM), forced(CLAIMS_TOOL))
    clients.answer(grounded_answer("Sources agree it is about 330 m.", citations), GROUNDED_REQUEST)
    clients.answer(verdict_answer(draft), forced(TOOL_NAME))
    return clients.analyzer().analyze(CLAIM, [])


# ------------------------------------------------------------------------------------------- evidence


def test_sources_are_exactly_the_cited_urls(clients: Clients) -> None:
    result = one_claim_checked(clients)

    assert_valid(result)
    (claim,) = result.claims
    assert [(source.url, source.title, source.domain) for source in claim.sources] == [
        (CITED[0][0], "Key figures", "toureiffel.paris"),
        (CITED[1][0], "en.wikipedia.org", "en.wikipedia.org"),  # no title given: the domain stands in
    ]
    assert (result.verdict, claim.verdict, claim.confidence) == ("FALSE", "FALSE", 0.95)
    assert result.searches == 1
    assert len(clients.requests) == 3


def test_a_url_the_model_writes_never_reaches_the_result(clients: Clients) -> None:
    """In the grounded answer's text, the verdict's explanation, summary and claim text, and in tool input fields
    that are not evidence ids (an invented `sources`, a URL given as an evidence id)."""
    draft = {
        **VERDICT,
        "summary": f"See {INVENTED[0]} and {INVENTED[2]}.",
        "sources": [{"title": "Invented", "url": INVENTED[1]}],
        "claims": [
            {
                **VERDICT["claims"][0],
                "text": f"{CLAIM} ({INVENTED[3]})",
                "explanation": f"Per {INVENTED[0]}, and {CITED[0][0]}, it is 330 m.",
                "evidence_ids": ["E1", INVENTED[1], "E9"],
                "sources": [{"title": "Invented", "url": INVENTED[1]}],
            }
        ],
    }
    clients.answer(claims_answer(CLAIM))
    clients.answer(grounded_answer(f"Sources at {INVENTED[0]} agree.", CITED[:1]))
    clients.answer(verdict_answer(draft))

    result = clients.analyzer().analyze(CLAIM, [])

    dumped = result.model_dump_json()
    for invented in INVENTED:
        assert invented not in dumped
        assert invented.removeprefix("https://").split("/")[0] not in dumped  # not even its host
    (claim,) = result.claims
    assert [source.url for source in claim.sources] == [CITED[0][0]]  # E9 is unknown, the URL id is not an id
    assert LINK_REMOVED in claim.explanation and CITED[0][0] in claim.explanation  # a read URL may stay
    assert LINK_REMOVED in result.summary and LINK_REMOVED in claim.text


def test_a_cited_url_is_shown_without_its_user_name_and_password_and_only_if_it_is_http(clients: Clients) -> None:
    """Sources are shown to customers: an http(s) URL, never a credential a citation carried, nor another scheme."""
    citations = [
        ("https://reader:s3cr3t@news.example.org/tower?page=2", "Tower facts", "news.example.org"),
        ("ftp://files.example.org/tower.txt", "Tower file", "files.example.org"),
        ("javascript:alert(1)", "Script", "script.example.org"),
        ("HTTP://archive.example.org/tower", "Archive", "archive.example.org"),
    ]
    claim = {
        **VERDICT["claims"][0],
        "explanation": "Per https://reader:s3cr3t@news.example.org/tower?page=2 it is 330 m.",
        "evidence_ids": ["E1", "E2", "E3", "E4"],
    }

    result = one_claim_checked(clients, {**VERDICT, "claims": [claim]}, citations)

    (checked,) = result.claims
    assert [source.url for source in checked.sources] == [
        "https://news.example.org/tower?page=2",
        "HTTP://archive.example.org/tower",
    ]
    dumped = result.model_dump_json()
    assert "s3cr3t" not in dumped and "reader" not in dumped
    assert "ftp:" not in dumped and "javascript:" not in dumped


def test_no_citations_means_no_sources_and_unverifiable(clients: Clients) -> None:
    draft = {**VERDICT, "verdict": "TRUE", "claims": [{**VERDICT["claims"][0], "verdict": "TRUE"}]}

    result = one_claim_checked(clients, draft, citations=[])

    (claim,) = result.claims
    assert claim.sources == []
    assert (claim.verdict, claim.confidence) == ("UNVERIFIABLE", 0)
    assert claim.explanation.startswith(NO_EVIDENCE)
    assert (result.verdict, result.confidence) == ("UNVERIFIABLE", 0)


def test_the_content_alone_may_settle_a_claim_and_says_so(clients: Clients) -> None:
    settled = {**VERDICT["claims"][0], "evidence_ids": [], "settled_by_content": True}
    draft = {**VERDICT, "claims": [settled]}

    result = one_claim_checked(clients, draft, citations=[])

    (claim,) = result.claims
    assert (claim.verdict, claim.sources) == ("FALSE", [])
    assert claim.explanation.endswith(CONTENT_ONLY)
    assert result.verdict == "FALSE"


def test_a_page_linked_in_the_content_is_evidence(clients: Clients) -> None:
    page = FetchedPage("https://news.example.org/tower", "Tower facts", "The tower is 330 m tall.", "text/html")
    clients.links = [
        LinkOutcome("https://news.example.org/tower", page, "read", "Read: 6 words of HTML."),
        LinkOutcome("http://10.0.0.1/admin", None, "refused", "Not read: the address is not public."),
    ]
    draft = {**VERDICT, "claims": [{**VERDICT["claims"][0], "evidence_ids": ["L1"]}]}

    result = one_claim_checked(clients, draft, citations=[])

    (claim,) = result.claims
    assert [(s.url, s.title, s.domain) for s in claim.sources] == [(page.url, "Tower facts", "news.example.org")]
    assert [(link.url, link.status, link.title) for link in result.links] == [
        ("https://news.example.org/tower", "read", "Tower facts"),
        ("http://10.0.0.1/admin", "refused", None),
    ]
    claims_text = json.dumps(clients.requests[0]["messages"])
    assert "The tower is 330 m tall." in claims_text and 'id=\\"L1\\"' in claims_text


def test_the_verdict_step_sees_the_evidence_by_id(clients: Clients) -> None:
    one_claim_checked(clients)

    verdict_prompt = clients.requests[2]["messages"][0]["content"][-1]["text"]
    assert "[E1] Key figures (toureiffel.paris)" in verdict_prompt and "[E2]" in verdict_prompt
    assert CLAIM in verdict_prompt
    schema = json.dumps(clients.requests[2]["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"])
    assert "evidence_ids" in schema and '"url"' not in schema and '"sources"' not in schema


def test_grounding_unavailable_fails_the_task_for_good(clients: Clients) -> None:
    clients.answer(claims_answer(CLAIM))
    clients.stubs["bedrock"].add_client_error(
        "converse", "ValidationException", "This model doesn't support the nova_grounding tool.", 400
    )

    with pytest.raises(PermanentAnalysisError) as raised:
        clients.analyzer().analyze(CLAIM, [])

    assert "Web search" in str(raised.value) and MODEL in str(raised.value)


def test_without_web_grounding_there_are_no_searches(clients: Clients) -> None:
    clients.answer(claims_answer(CLAIM), forced(CLAIMS_TOOL))
    clients.answer(verdict_answer(), forced(TOOL_NAME))

    result = clients.analyzer(web_grounding=False).analyze(CLAIM, [])

    assert result.searches == 0 and len(clients.requests) == 2
    assert result.claims[0].sources == [] and result.claims[0].verdict == "UNVERIFIABLE"


def test_a_quote_is_the_passage_pointed_at_if_the_page_holds_it_and_sources_keep_their_order(clients: Clients) -> None:
    clients.pages[CITED[0][0]] = FetchedPage(CITED[0][0], "Key figures", PAGE, "text/html")
    clients.pages[CITED[1][0]] = FetchedPage(
        CITED[1][0], "Eiffel Tower", "Nothing here bears on it at all.", "text/html"
    )
    judged = {
        **VERDICT["claims"][0],
        "judgements": [
            {"id": "E1", "stance": "refutes", "passage": "eiffel tower is  330 METRES (1,083 ft) tall"},
            {"id": "E2", "stance": "refutes", "passage": "The tower is 500 metres tall."},  # on no page
        ],
    }

    result = one_claim_checked(clients, {**VERDICT, "claims": [judged]})

    (claim,) = result.claims
    assert [(source.quote, source.stance) for source in claim.sources] == [
        ("Eiffel Tower is 330 metres (1,083 ft) tall", "refutes"),  # as the page has it
        (None, "refutes"),  # the passage it pointed at is not on the page, and nothing else matches
    ]
    assert isinstance(claim.anchor, TextAnchor) and (claim.anchor.start, claim.anchor.end) == (0, len(CLAIM))
    assert sorted(clients.pages_read) == sorted(url for url, _, _ in CITED)


def test_at_most_8_cited_pages_are_read_3_at_a_time(clients: Clients) -> None:
    cited = [(f"https://source{n}.example/page", None, f"source{n}.example") for n in range(12)]
    in_flight, most = [0], [0]
    lock = threading.Lock()

    def read_page(url: str) -> FetchedPage:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
            clients.pages_read.append(url)
        return FetchedPage(url, "A page", PAGE, "text/html")

    clients.answer(claims_answer(CLAIM))
    clients.answer(grounded_answer("Many sources.", cited), GROUNDED_REQUEST)
    draft = {**VERDICT, "claims": [{**VERDICT["claims"][0], "evidence_ids": [f"E{n}" for n in range(1, 13)]}]}
    clients.answer(verdict_answer(draft))
    analyzer = clients.analyzer()
    analyzer._read_page = read_page

    result = analyzer.analyze(CLAIM, [])

    sources = result.claims[0].sources
    assert len(sources) == 12  # every citation stays a source...
    assert [source.quote is not None for source in sources] == [True] * 8 + [False] * 4  # ...8 pages are read
    assert sorted(clients.pages_read) == sorted(url for url, _, _ in cited[:8]) and most[0] == 3


def test_cited_pages_not_read_by_the_end_of_the_budget_are_left_unquoted(clients: Clients) -> None:
    """The verdict call ends with the budget spent: a page still loading is not awaited, its source has no quote."""
    released = threading.Event()

    def stuck(url: str) -> FetchedPage:
        released.wait(10)
        raise FetchFailed("The site did not answer within 10 s.")

    clients.clock.per_call = 100  # claims, search, verdict: the 300 s budget is spent when the verdict returns
    clients.answer(claims_answer(CLAIM))
    clients.answer(grounded_answer("Sources agree it is about 330 m.", CITED), GROUNDED_REQUEST)
    clients.answer(verdict_answer())
    analyzer = clients.analyzer()
    analyzer._read_page = stuck
    started = time.monotonic()

    try:
        result = analyzer.analyze(CLAIM, [])
    finally:
        released.set()

    assert time.monotonic() - started < 2
    assert [(source.url, source.quote) for source in result.claims[0].sources] == [(url, None) for url, _, _ in CITED]


def test_claims_and_searches_are_bounded(clients: Clients, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANALYSIS_MAX_CLAIMS", "3")
    monkeypatch.setenv("GROUNDING_MAX_CALLS", "2")
    get_settings.cache_clear()
    clients.answer(claims_answer(*(f"Claim number {n} is a fact." for n in range(1, 8))))
    clients.answer(grounded_answer("One.", CITED[:1]), GROUNDED_REQUEST)
    clients.answer(grounded_answer("Two.", CITED[1:]), GROUNDED_REQUEST)
    clients.answer(verdict_answer())

    analyzer = clients.analyzer()
    result = analyzer.analyze("Seven claims.", [])

    verdict_prompt = clients.requests[-1]["messages"][0]["content"][-1]["text"]
    assert "Claim number 3" in verdict_prompt and "Claim number 4" not in verdict_prompt
    assert result.searches == 2
    assert (analyzer.usage.model_calls, analyzer.usage.grounded_calls) == (4, 2)
    assert (analyzer.usage.input_tokens, analyzer.usage.output_tokens) == (4 * 1200, 4 * 240)


def test_searches_are_skipped_when_the_budget_cannot_fit_them(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Budget 300 s and 95 s per call: after a claims call of 120 s, a search wave and the verdict (190 s) no
    longer fit in the 180 s left, so the verdict comes at once, and the claim is unverifiable."""
    clients.clock.per_call = 120
    clients.answer(claims_answer(CLAIM))
    clients.answer(verdict_answer())

    result = clients.analyzer().analyze(CLAIM, [])

    assert result.searches == 0 and len(clients.requests) == 2
    assert result.claims[0].verdict == "UNVERIFIABLE"


def test_with_no_time_for_claims_the_verdict_step_works_alone(clients: Clients) -> None:
    """Transcription and links took 150 s of the 300: a claims call and the verdict (190 s) do not fit."""
    clients.reading_seconds = 150
    clients.answer(verdict_answer(), forced(TOOL_NAME))

    result = clients.analyzer().analyze(CLAIM, [])

    assert len(clients.requests) == 1 and result.searches == 0


def test_text_only(clients: Clients) -> None:
    result = one_claim_checked(clients)

    assert_valid(result)
    assert result.attachments == [] and result.links == []
    text = clients.requests[0]["messages"][0]["content"][0]["text"]
    assert "<content>" in text and CLAIM in text


def test_image_pdf_and_video_become_content_blocks(clients: Clients) -> None:
    attachments = [
        attachment("photo.png", "image/png", "image", "usr_1/tsk_1/0.png", PNG),
        attachment("Q3 report_final.v2.pdf", "application/pdf", "pdf", "usr_1/tsk_1/1.pdf", PDF),
        attachment("clip.mov", "video/quicktime", "video", "usr_1/tsk_1/2.mov"),
    ]
    blocks = [
        {"image": {"format": "png", "source": {"bytes": PNG}}},
        {"document": {"format": "pdf", "name": "Q3 report-final-v2", "source": {"bytes": PDF}}},
        {"video": {"format": "mov", "source": {"s3Location": {"uri": f"s3://{BUCKET}/usr_1/tsk_1/2.mov"}}}},
        {"text": ANY},
    ]
    clients.answer(claims_answer(CLAIM), forced(CLAIMS_TOOL, [*blocks, {"text": ANY}]))
    clients.answer(grounded_answer("About 330 m.", CITED), GROUNDED_REQUEST)
    clients.answer(verdict_answer(), forced(TOOL_NAME, [*blocks, {"text": ANY}]))

    result = clients.analyzer().analyze("", attachments)

    assert_valid(result)
    assert [(report.name, report.media_type, report.notes) for report in result.attachments] == [
        ("photo.png", "image/png", "Sent to the model as an image."),
        ("Q3 report_final.v2.pdf", "application/pdf", "Sent to the model as a PDF document."),
        ("clip.mov", "video/quicktime", "Sent to the model as a video."),
    ]
    assert result.attachments[0].size_bytes == len(PNG)
    assert PNG.hex() not in result.model_dump_json()  # never bytes in the result


def test_audio_is_transcribed_then_sent_as_text(clients: Clients) -> None:
    uri = f"s3://{BUCKET}/usr_1/tsk_1/0.m4a"
    job = "clara-usr_1-tsk_1-0.m4a"
    clients.stubs["transcribe"].add_response(
        "start_transcription_job",
        {"TranscriptionJob": {"TranscriptionJobName": job, "TranscriptionJobStatus": "IN_PROGRESS"}},
        {
            "TranscriptionJobName": job,
            "Media": {"MediaFileUri": uri},
            "MediaFormat": "mp4",
            "IdentifyLanguage": True,
            "OutputBucketName": BUCKET,
            "OutputKey": f"transcripts/{job}.json",
        },
    )
    for status in ("IN_PROGRESS", "COMPLETED"):
        clients.stubs["transcribe"].add_response(
            "get_transcription_job",
            {"TranscriptionJob": {"TranscriptionJobName": job, "TranscriptionJobStatus": status}},
            {"TranscriptionJobName": job},
        )
    words = [
        {"type": "pronunciation", "start_time": str(2 + n), "end_time": str(2.5 + n), "alternatives": [{"content": w}]}
        for n, w in enumerate(["The", "moon", "is", "made", "of", "cheese"])
    ]
    items = [*words, {"type": "punctuation", "alternatives": [{"content": "."}]}]
    spoken = {"transcripts": [{"transcript": "The moon is made of cheese."}], "items": items}
    transcript = json.dumps({"jobName": job, "results": spoken}).encode()
    clients.stubs["s3"].add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(transcript), len(transcript))},
        {"Bucket": BUCKET, "Key": f"transcripts/{job}.json"},
    )
    content = [{"text": "Transcript of memo.m4a: The moon is made of cheese."}, {"text": ANY}, {"text": ANY}]
    clients.answer(claims_answer("The moon is made of cheese."), forced(CLAIMS_TOOL, content))
    clients.answer(grounded_answer("It is rock.", CITED[1:]), GROUNDED_REQUEST)
    moon = {**VERDICT["claims"][0], "text": "The moon is made of cheese."}
    clients.answer(verdict_answer({**VERDICT, "claims": [moon]}), forced(TOOL_NAME, content))

    result = clients.analyzer().analyze(
        "Is this right?", [attachment("memo.m4a", "audio/mp4", "audio", "usr_1/tsk_1/0.m4a")]
    )

    assert_valid(result)
    # Said from the first word (2 s) to the end of the sixth (7.5 s) of the recording, attachment 0.
    assert result.claims[0].anchor == TimeAnchor(index=0, start_seconds=2.0, end_seconds=7.5)
    assert result.attachments[0].notes == "Transcribed with Amazon Transcribe."
    assert clients.sleeps == [3]


def test_a_retry_polls_the_job_it_started_before(clients: Clients) -> None:
    job = "clara-usr_1-tsk_1-0.mp3"
    clients.stubs["transcribe"].add_client_error("start_transcription_job", "ConflictException", http_status_code=409)
    clients.stubs["transcribe"].add_response(
        "get_transcription_job",
        {"TranscriptionJob": {"TranscriptionJobName": job, "TranscriptionJobStatus": "FAILED", "FailureReason": "x"}},
        {"TranscriptionJobName": job},
    )

    with pytest.raises(PermanentAnalysisError):
        clients.analyzer().analyze("", [attachment("talk.mp3", "audio/mpeg", "audio", "usr_1/tsk_1/0.mp3")])


def test_a_transcription_still_running_at_the_deadline_is_transient(clients: Clients) -> None:
    job = "clara-usr_1-tsk_1-0.wav"
    clients.stubs["transcribe"].add_response(
        "start_transcription_job",
        {"TranscriptionJob": {"TranscriptionJobName": job, "TranscriptionJobStatus": "QUEUED"}},
    )
    for _ in range(21):  # the first poll, then one after each of 20 sleeps of 3 s
        clients.stubs["transcribe"].add_response(
            "get_transcription_job",
            {"TranscriptionJob": {"TranscriptionJobName": job, "TranscriptionJobStatus": "QUEUED"}},
        )

    with pytest.raises(TranscriptionPending) as raised:
        clients.analyzer().analyze("", [attachment("talk.wav", "audio/wav", "audio", "usr_1/tsk_1/0.wav")])

    assert not isinstance(raised.value, PermanentAnalysisError)
    assert sum(clients.sleeps) == 60


@pytest.mark.parametrize("code", ["ValidationException", "AccessDeniedException", "ResourceNotFoundException"])
def test_a_request_bedrock_refuses_is_permanent(clients: Clients, code: str) -> None:
    clients.stubs["bedrock"].add_client_error(
        "converse", code, "arn:aws:iam::123456789012:role/secret-ish detail", http_status_code=400
    )

    with pytest.raises(PermanentAnalysisError) as raised:
        clients.analyzer().analyze("A claim to check here.", [])

    assert code in str(raised.value) and "123456789012" not in str(raised.value)
    assert len(clients.requests) == 1  # the first call: nothing after a refusal


@pytest.mark.parametrize("code", ["ThrottlingException", "ServiceUnavailableException", "ModelTimeoutException"])
def test_transient_bedrock_errors_are_raised_again(clients: Clients, code: str) -> None:
    clients.stubs["bedrock"].add_client_error("converse", code, http_status_code=429)

    with pytest.raises(Exception) as raised:
        clients.analyzer().analyze("A claim to check here.", [])

    assert not isinstance(raised.value, PermanentAnalysisError)
    assert raised.value.response["Error"]["Code"] == code  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "response",
    [
        converse_response([{"text": "I think the claim is false."}], stop_reason="end_turn"),
        verdict_answer({**VERDICT, "verdict": "PROBABLY"}),
        verdict_answer({**VERDICT, "confidence": 1.7}),
        converse_response(tool_use({"verdict": "TRUE"}), stop_reason="max_tokens"),
    ],
    ids=["no tool use", "unknown verdict", "confidence above 1", "cut short"],
)
def test_an_unusable_answer_is_transient(clients: Clients, response: dict[str, Any]) -> None:
    clients.answer(claims_answer(CLAIM))
    clients.answer(grounded_answer("About 330 m.", CITED))
    clients.answer(response)

    with pytest.raises(ModelOutputError):
        clients.analyzer().analyze("A claim to check here.", [])


def test_the_verdict_tool_has_evidence_ids_and_no_place_for_a_url() -> None:
    schema = tool_input_schema()

    assert set(schema["properties"]) == {"verdict", "confidence", "summary", "claims"}
    assert set(schema["properties"]["verdict"]["enum"]) == VERDICTS
    claim = schema["properties"]["claims"]["items"]["properties"]
    assert set(claim) == {
        "text", "verdict", "confidence", "explanation", "evidence_ids", "settled_by_content", "judgements"
    }  # fmt: skip
    assert set(claim["judgements"]["items"]["properties"]) == {"id", "stance", "passage"}
    assert "$ref" not in json.dumps(schema) and "$defs" not in schema and "url" not in json.dumps(schema)


def test_document_names_are_safe_and_unique() -> None:
    taken: set[str] = set()
    names = []
    for name in ["a.pdf", "a.pdf", "<script>alert(1)<script>.pdf", "é" * 300 + ".pdf"]:
        names.append(document_name(name, taken))
        taken.add(names[-1])

    assert names[:2] == ["a", "a (2)"]
    assert names[2] == "script-alert(1)-script"
    assert names[3] == "Document"
    assert len(set(names)) == len(names)


def test_the_model_comes_from_settings_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_MODEL_ID", "anthropic.claude-3-5-sonnet-20240620-v1:0")
    get_settings.cache_clear()
    try:
        assert BedrockAnalyzer().model_id == "anthropic.claude-3-5-sonnet-20240620-v1:0"
    finally:
        get_settings.cache_clear()
