"""The local analyzer: real work without a model. It reads the text, the links in it (through the same safe fetcher
as the Bedrock analyzer) and every attachment (PDF text, an image's format and size, a media file's duration where
the container tells it), splits the content into checkable claims, and says plainly that no model judged them:
every verdict UNVERIFIABLE, confidence 0, no sources. Each claim is a sentence of the text, of a PDF page or of a
linked page, and is anchored there."""

import io
import re
import struct
from collections.abc import Callable, Sequence

from clara.domain.analysis.ports import AttachmentInput, Usage
from clara.domain.analysis.results import AnalysisResult, AnalyzerInfo, AttachmentReport, Claim
from clara.integrations.analyzers.anchors import MAX_PDF_PAGES, Places
from clara.integrations.analyzers.evidence import link_report, without_userinfo
from clara.integrations.fetcher import LinkOutcome, read_links

MAX_CLAIMS = 25
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n{2,}")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class LocalAnalyzer:
    def __init__(self, read_links: Callable[[str], list[LinkOutcome]] = read_links) -> None:
        self._read_links = read_links
        self.usage = Usage()  # no model: nothing to count

    def analyze(self, text: str, attachments: Sequence[AttachmentInput]) -> AnalysisResult:
        links = self._read_links(text)
        places = Places(text)
        texts: list[str] = [text]
        reports: list[AttachmentReport] = []
        for index, attachment in enumerate(attachments):
            notes, pages = inspect_attachment(attachment)
            reports.append(
                AttachmentReport(
                    name=attachment.name,
                    media_type=attachment.media_type,
                    size_bytes=attachment.size_bytes,
                    notes=notes,
                )
            )
            if pages:
                texts.extend(pages)
                places.pdfs[index] = pages.copy  # read already: the pages as they are
        # The pages the links led to are read with the rest, after the content's own words.
        for link in links:
            if link.page is not None:
                texts.append(link.page.text)
                places.links[without_userinfo(link.url)] = link.page.text
        claims = [
            Claim(
                text=claim,
                verdict="UNVERIFIABLE",
                confidence=0,
                explanation="Extracted as a checkable statement; no model or source has judged it.",
                anchor=places.anchor(claim),
            )
            for claim in checkable_claims("\n\n".join(texts))
        ]
        read = sum(1 for link in links if link.page is not None)
        summary = (
            f"Found {len(claims)} checkable claim(s) in the text and {len(attachments)} attachment(s)"
            + (f", and read {read} of {len(links)} link(s)" if links else "")
            + ". No model judged these claims: this is the local analyzer, which extracts and inspects only."
        )
        return AnalysisResult(
            verdict="UNVERIFIABLE",
            confidence=0,
            summary=summary,
            claims=claims,
            attachments=reports,
            analyzer=AnalyzerInfo(name="local", model=None),
            links=[link_report(link) for link in links],
        )


def checkable_claims(content: str) -> list[str]:
    """Declarative sentences of four words or more, each once, in order of appearance."""
    seen: set[str] = set()
    claims: list[str] = []
    for sentence in _SENTENCE_END.split(content):
        sentence = " ".join(sentence.split())
        if len(_WORD.findall(sentence)) < 4 or sentence.endswith("?") or sentence.lower() in seen:
            continue
        seen.add(sentence.lower())
        claims.append(sentence[:500])
        if len(claims) == MAX_CLAIMS:
            break
    return claims


def inspect_attachment(attachment: AttachmentInput) -> tuple[str, list[str]]:
    """(notes for the report, the text of each page extracted for claims: a PDF's, else none)."""
    content = attachment.read()
    if attachment.kind == "pdf":
        return _pdf(content)
    if attachment.kind == "image":
        size = image_size(content)
        dimensions = f"{size[0]}x{size[1]} pixels" if size else "dimensions not readable"
        return f"{attachment.media_type.split('/')[1].upper()} image, {dimensions}.", []
    duration = media_duration(content)
    length = f"{duration:.1f} seconds long" if duration is not None else "duration not readable from its container"
    return f"{attachment.kind.capitalize()} file, {length}.", []


def _pdf(content: bytes) -> tuple[str, list[str]]:
    from pypdf import PdfReader  # only the worker packages pypdf

    try:
        reader = PdfReader(io.BytesIO(content))
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
    except Exception as error:  # a damaged PDF is a finding of the analysis, not a failure of it
        return f"PDF that could not be read ({type(error).__name__}).", []
    words = sum(len(page.split()) for page in pages)
    return f"PDF, {len(reader.pages)} page(s), {words} words of text.", pages


def image_size(content: bytes) -> tuple[int, int] | None:
    """Width and height from the header of a PNG, GIF, JPEG or WebP image; None when it is not readable."""
    try:
        return _image_size(content)
    except (struct.error, IndexError):  # a damaged header is a finding of the analysis, never its failure
        return None


def _image_size(content: bytes) -> tuple[int, int] | None:
    if content.startswith(b"\x89PNG") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return width, height
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return width, height
    if content.startswith(b"\xff\xd8"):
        return _jpeg_size(content)
    if content[8:12] == b"WEBP":
        return _webp_size(content)
    return None


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 < len(content):
        if content[position] != 0xFF:
            return None
        marker = content[position + 1]
        length = struct.unpack(">H", content[position + 2 : position + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", content[position + 5 : position + 9])
            return width, height
        position += 2 + length
    return None


def _webp_size(content: bytes) -> tuple[int, int] | None:
    chunk = content[12:16]
    if chunk == b"VP8X" and len(content) >= 30:
        width = 1 + int.from_bytes(content[24:27], "little")
        height = 1 + int.from_bytes(content[27:30], "little")
        return width, height
    if chunk == b"VP8 " and len(content) >= 30:
        width, height = struct.unpack("<HH", content[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(content) >= 25:
        bits = int.from_bytes(content[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def media_duration(content: bytes) -> float | None:
    """Seconds, from an MP4/MOV/M4A `mvhd` box or a WAV header; None for containers it cannot read."""
    try:
        return _media_duration(content)
    except (struct.error, IndexError):  # a damaged container is a finding of the analysis, never its failure
        return None


def _media_duration(content: bytes) -> float | None:
    if content[8:12] == b"WAVE":
        return _wav_duration(content)
    index = content.find(b"mvhd")
    if index < 4 or index + 24 > len(content):
        return None
    version = content[index + 4]
    if version == 1:
        if index + 36 > len(content):  # a 64-bit box cut short: its 32-bit reading would be nonsense
            return None
        timescale, duration = struct.unpack(">IQ", content[index + 24 : index + 36])
    else:
        timescale, duration = struct.unpack(">II", content[index + 16 : index + 24])
    return duration / timescale if timescale else None


def _wav_duration(content: bytes) -> float | None:
    byte_rate_at = content.find(b"fmt ")
    data_at = content.find(b"data")
    # The byte rate is bytes 16..20 of the `fmt ` chunk: a chunk cut before them is unreadable, not an error.
    if byte_rate_at < 0 or data_at < 0 or byte_rate_at + 20 > len(content) or data_at + 8 > len(content):
        return None
    byte_rate = struct.unpack("<I", content[byte_rate_at + 16 : byte_rate_at + 20])[0]
    data_size = struct.unpack("<I", content[data_at + 4 : data_at + 8])[0]
    return data_size / byte_rate if byte_rate else None
