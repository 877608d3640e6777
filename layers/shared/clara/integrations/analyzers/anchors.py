"""Where the customer stated a claim: in the submitted text, on a PDF page, in a recording, or on a linked page.

A claim is anchored by a span of words (the claims step's verbatim span, or the local analyzer's sentence), which
`Places.anchor` looks for in what the customer sent, in that order; offsets and times always come from this code,
never from a model.
"""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from clara.domain.analysis.results import Anchor, LinkAnchor, PageAnchor, TextAnchor, TimeAnchor
from clara.integrations.analyzers.passages import flat, locate

MAX_PDF_PAGES = 50


@dataclass(frozen=True)
class Word:
    start: int  # offsets in the transcript's text
    end: int
    start_seconds: float
    end_seconds: float


@dataclass(frozen=True)
class Transcript:
    """A recording's text as Amazon Transcribe wrote it, with each spoken word's place and time."""

    text: str
    words: tuple[Word, ...]

    @classmethod
    def from_transcribe(cls, body: bytes | str) -> "Transcript":
        """From Transcribe's output JSON: its `items`, spoken words apart by a space, punctuation attached."""
        parts: list[str] = []
        words: list[Word] = []
        length = 0
        for item in json.loads(body)["results"].get("items", []):
            content = (item.get("alternatives") or [{}])[0].get("content", "")
            if not content:
                continue
            spoken = item.get("type") == "pronunciation"
            piece = f" {content}" if spoken and parts else content
            parts.append(piece)
            if spoken and "start_time" in item:
                start = length + len(piece) - len(content)
                words.append(Word(start, start + len(content), float(item["start_time"]), float(item["end_time"])))
            length += len(piece)
        return cls("".join(parts), tuple(words))

    def seconds(self, start: int, end: int) -> tuple[float, float] | None:
        spoken = [word for word in self.words if word.end > start and word.start < end]
        return (spoken[0].start_seconds, spoken[-1].end_seconds) if spoken else None


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page of a PDF (at most MAX_PDF_PAGES); pypdf is imported here, as it is heavy."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]


@dataclass
class Places:
    """Everything the customer sent, where a claim may be found. PDF pages are read only if a claim is not found
    in the text first (`pdfs` holds a reader per attachment index)."""

    text: str
    pdfs: dict[int, Callable[[], list[str]]] = field(default_factory=dict)
    transcripts: dict[int, Transcript] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # the URL a link led to -> the page's text

    def anchor(self, span: str) -> Anchor | None:
        span = flat(span)
        if not span:
            return None
        located = locate(span, self.text)
        if located:
            return TextAnchor(start=located[0], end=located[1])
        for index, pages in self._pdf_pages.items():
            for number, page in enumerate(pages, start=1):
                if locate(span, page):
                    return PageAnchor(index=index, page=number)
        for index, transcript in self.transcripts.items():
            located = locate(span, transcript.text)
            seconds = transcript.seconds(*located) if located else None
            if seconds:
                return TimeAnchor(index=index, start_seconds=seconds[0], end_seconds=seconds[1])
        for url, page in self.links.items():
            if locate(span, page):
                return LinkAnchor(url=url)
        return None

    @cached_property
    def _pdf_pages(self) -> dict[int, list[str]]:
        pages: dict[int, list[str]] = {}
        for index, read in self.pdfs.items():
            try:
                pages[index] = read()
            except Exception:  # a damaged PDF anchors nothing; the analysis goes on
                pages[index] = []
        return pages
