"""The result of an analysis as the API shows it (docs/contract.md, Tasks and results): verdicts, claims with their
sources and anchors, what became of each attachment and link. The analyzers (clara.integrations.analyzers) make
it; a task stores it and its view shows it (clara.domain.analysis.tasks)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from clara.formats import json_text, text_ready

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


# The version of the JSON a task stores its result as (result_json): the view's JSON of an AnalysisResult. A task
# stored in this format is shown by its stored text; one stored in another (or as a map, before the text) is read
# and validated, gaining the defaults of fields added since. Bump it with any change to AnalysisResult's JSON:
# tests/unit/test_result_format.py pins it to the schema.
RESULT_FORMAT = 1


def result_json(result: AnalysisResult) -> str:
    """The result as a task stores it and its view writes it (money exact, dates as the contract shows them)."""
    return json_text(text_ready(result))
