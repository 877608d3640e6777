"""The Bedrock analyzer against real boto3 clients whose calls botocore's Stubber answers (no network): the
requests it builds, how it reads the answers, and which failures are permanent."""

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from clara.analyzers import AnalysisResult, AttachmentInput, PermanentAnalysisError
from clara.analyzers.bedrock import (
    TOOL_NAME,
    BedrockAnalyzer,
    ModelOutputError,
    TranscriptionPending,
    document_name,
    tool_input_schema,
)
from clara.settings import get_settings

MODEL = "amazon.nova-pro-v1:0"
BUCKET = "clara-attachments"
VERDICTS = {"TRUE", "MOSTLY_TRUE", "MIXED", "MOSTLY_FALSE", "FALSE", "UNVERIFIABLE"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
PDF = b"%PDF-1.7 minimal"

FACT_CHECK = {
    "verdict": "MOSTLY_FALSE",
    "confidence": 0.8,
    "summary": "The main claim is contradicted by the measured record.",
    "claims": [
        {
            "text": "The Eiffel Tower is 500 metres tall.",
            "verdict": "FALSE",
            "confidence": 0.95,
            "explanation": "It is about 330 metres tall including antennas.",
            "sources": [{"title": "Tour Eiffel", "url": "https://www.toureiffel.paris/en"}],
        }
    ],
}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


class Clients:
    def __init__(self) -> None:
        self.bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")
        self.transcribe = boto3.client("transcribe", region_name="us-east-1")
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.stubs = {name: Stubber(getattr(self, name)) for name in ("bedrock", "transcribe", "s3")}
        self.sleeps: list[float] = []

    def analyzer(self) -> BedrockAnalyzer:
        return BedrockAnalyzer(
            self.bedrock, self.transcribe, self.s3, model_id=MODEL, clock=lambda seconds: self.sleeps.append(seconds)
        )


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


def tool_use(tool_input: Any) -> list[dict[str, Any]]:
    return [{"toolUse": {"toolUseId": "tooluse_abc123", "name": TOOL_NAME, "input": tool_input}}]


def expected_converse(content: Any) -> dict[str, Any]:
    return {
        "modelId": MODEL,
        "messages": [{"role": "user", "content": content}],
        "system": [{"text": ANY}],
        "toolConfig": {
            "tools": [{"toolSpec": {"name": TOOL_NAME, "description": ANY, "inputSchema": {"json": ANY}}}],
            "toolChoice": {"tool": {"name": TOOL_NAME}},
        },
        "inferenceConfig": {"maxTokens": 4096, "temperature": 0},
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


def test_text_only(clients: Clients) -> None:
    text_block = {"text": ANY}
    clients.stubs["bedrock"].add_response(
        "converse", converse_response(tool_use(FACT_CHECK)), expected_converse([text_block])
    )

    result = clients.analyzer().analyze("The Eiffel Tower is 500 metres tall.", [])

    assert_valid(result)
    assert result.model_dump(exclude={"attachments", "analyzer"}) == FACT_CHECK
    assert result.attachments == []


def test_the_text_block_carries_the_content_and_the_instruction(clients: Clients) -> None:
    captured: list[dict[str, Any]] = []
    clients.bedrock.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse", lambda params, **_: captured.append(params)
    )
    clients.stubs["bedrock"].add_response("converse", converse_response(tool_use(FACT_CHECK)))

    clients.analyzer().analyze("The Eiffel Tower is 500 metres tall.", [])

    (text,) = captured[0]["messages"][0]["content"]
    assert "Fact-check" in text["text"] and "The Eiffel Tower is 500 metres tall." in text["text"]


def test_image_pdf_and_video_become_content_blocks(clients: Clients) -> None:
    attachments = [
        attachment("photo.png", "image/png", "image", "usr_1/tsk_1/0.png", PNG),
        attachment("Q3 report_final.v2.pdf", "application/pdf", "pdf", "usr_1/tsk_1/1.pdf", PDF),
        attachment("clip.mov", "video/quicktime", "video", "usr_1/tsk_1/2.mov"),
    ]
    content = [
        {"image": {"format": "png", "source": {"bytes": PNG}}},
        {"document": {"format": "pdf", "name": "Q3 report-final-v2", "source": {"bytes": PDF}}},
        {"video": {"format": "mov", "source": {"s3Location": {"uri": f"s3://{BUCKET}/usr_1/tsk_1/2.mov"}}}},
        {"text": ANY},
    ]
    clients.stubs["bedrock"].add_response(
        "converse", converse_response(tool_use(FACT_CHECK)), expected_converse(content)
    )

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
    transcript = json.dumps(
        {"jobName": job, "results": {"transcripts": [{"transcript": "The moon is made of cheese."}], "items": []}}
    ).encode()
    clients.stubs["s3"].add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(transcript), len(transcript))},
        {"Bucket": BUCKET, "Key": f"transcripts/{job}.json"},
    )
    content = [{"text": "Transcript of memo.m4a: The moon is made of cheese."}, {"text": ANY}]
    clients.stubs["bedrock"].add_response(
        "converse", converse_response(tool_use(FACT_CHECK)), expected_converse(content)
    )

    result = clients.analyzer().analyze(
        "Is this right?", [attachment("memo.m4a", "audio/mp4", "audio", "usr_1/tsk_1/0.m4a")]
    )

    assert_valid(result)
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
        converse_response(tool_use({**FACT_CHECK, "verdict": "PROBABLY"})),
        converse_response(tool_use({**FACT_CHECK, "confidence": 1.7})),
        converse_response(tool_use({"verdict": "TRUE"}), stop_reason="max_tokens"),
    ],
    ids=["no tool use", "unknown verdict", "confidence above 1", "cut short"],
)
def test_an_unusable_answer_is_transient(clients: Clients, response: dict[str, Any]) -> None:
    clients.stubs["bedrock"].add_response("converse", response)

    with pytest.raises(ModelOutputError):
        clients.analyzer().analyze("A claim to check here.", [])


def test_the_tool_schema_is_the_result_without_attachments_and_analyzer() -> None:
    schema = tool_input_schema()

    assert set(schema["properties"]) == {"verdict", "confidence", "summary", "claims"}
    assert set(schema["properties"]["verdict"]["enum"]) == VERDICTS
    assert "$ref" not in json.dumps(schema) and "$defs" not in schema


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
