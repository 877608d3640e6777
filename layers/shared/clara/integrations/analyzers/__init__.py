"""The analyzer interface: text and attachments in, the result schema of docs/contract.md, Tasks and results out.

Two implementations, chosen by ANALYZER: `bedrock` (Amazon Bedrock, in the deployed stack) and `local` (real
work without a model, the local runtime's default). Each is imported only when chosen.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from clara.domain.attachments import MediaKind
from clara.settings import get_settings

Verdict = Literal["TRUE", "MOSTLY_TRUE", "MIXED", "MOSTLY_FALSE", "FALSE", "UNVERIFIABLE"]


class Source(BaseModel):
    """Something the system read: a citation Bedrock's web grounding returned, or a page a link in the content
    led to. Never a URL a model wrote."""

    title: str
    url: str
    domain: str | None = None  # added after the first release: clients that know only {title, url} ignore it
    quote: str | None = Field(
        default=None,
        max_length=300,
        description="A passage copied from the text Clara read at this URL, the one that best matches the claim; "
        "null when the page could not be read or nothing on it matched.",
    )
    stance: Literal["supports", "refutes"] | None = Field(
        default=None, description="Whether this evidence supports or refutes the claim, as the verdict step judged it."
    )


class _Anchor(BaseModel):
    # `in` is a Python keyword: the field is in_, written and read as "in".
    model_config = ConfigDict(
        serialize_by_alias=True,
        validate_by_name=True,
        validate_by_alias=True,
        json_schema_serialization_defaults_required=True,
    )


class TextAnchor(_Anchor):
    """The claim is text[start:end] of the submitted text (Python string indices)."""

    in_: Literal["text"] = Field(default="text", alias="in")
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class PageAnchor(_Anchor):
    """The claim is on page `page` (1-based) of the PDF attachment `index` (0-based, in the order sent)."""

    in_: Literal["attachment"] = Field(default="attachment", alias="in")
    index: int = Field(ge=0)
    page: int = Field(ge=1)


class TimeAnchor(_Anchor):
    """The claim is spoken between start_seconds and end_seconds of the audio or video attachment `index`."""

    in_: Literal["attachment"] = Field(default="attachment", alias="in")
    index: int = Field(ge=0)
    start_seconds: float = Field(ge=0)
    end_seconds: float = Field(ge=0)


class LinkAnchor(_Anchor):
    """The claim is on the page a link in the content led to."""

    in_: Literal["link"] = Field(default="link", alias="in")
    url: str


Anchor = TextAnchor | PageAnchor | TimeAnchor | LinkAnchor


class Claim(BaseModel):
    text: str
    verdict: Verdict
    confidence: float = Field(ge=0, le=1)
    explanation: str
    sources: list[Source] = Field(default_factory=list)
    anchor: Annotated[Anchor | None, Field(description="Where the customer stated the claim; null when unknown.")] = (
        None
    )


class AttachmentReport(BaseModel):
    name: str
    media_type: str
    size_bytes: int
    notes: str


class LinkReport(BaseModel):
    """A link found in the analysed content and what became of it: `read` (its text was checked with the rest),
    `refused` (the safe fetcher would not go there: not public, not http(s), a type it does not read...) or
    `failed` (the site did not answer in time or answered an error)."""

    url: str
    status: Literal["read", "refused", "failed"]
    title: str | None = None
    notes: str


class AnalyzerInfo(BaseModel):
    name: str
    model: str | None


class AnalysisResult(BaseModel):
    verdict: Verdict
    confidence: float = Field(ge=0, le=1)
    summary: str
    claims: list[Claim]
    attachments: list[AttachmentReport]
    analyzer: AnalyzerInfo
    # Added after the first release (clients that do not know them ignore them): the links of the content, and
    # how many web searches (grounded model calls) gathered evidence.
    links: list[LinkReport] = Field(default_factory=list)
    searches: int = Field(default=0, ge=0)


@dataclass
class Usage:
    """What an analyzer spent on its last analyze(): model calls, of them grounded (web search) calls, tokens, and
    the time it waited for cited pages."""

    model_calls: int = 0
    grounded_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reading_seconds: float = 0.0  # waited for cited pages after the verdict call: what quotes add to a task


@dataclass(frozen=True)
class AttachmentInput:
    """One stored attachment as an analyzer sees it; `read` fetches the bytes only if the analyzer needs them."""

    name: str
    media_type: str
    kind: MediaKind
    size_bytes: int
    s3_uri: str
    read: Callable[[], bytes]


class PermanentAnalysisError(Exception):
    """Retrying cannot fix this (the input itself is the problem): the task fails at once and is refunded."""


class Analyzer(Protocol):
    usage: Usage  # of the last analyze() call; zero for the local analyzer

    def analyze(self, text: str, attachments: Sequence[AttachmentInput]) -> AnalysisResult: ...


def analyzer_for_settings() -> Analyzer:
    if get_settings().analyzer == "bedrock":
        from clara.integrations.analyzers.bedrock import BedrockAnalyzer

        return BedrockAnalyzer()
    from clara.integrations.analyzers.local import LocalAnalyzer

    return LocalAnalyzer()
