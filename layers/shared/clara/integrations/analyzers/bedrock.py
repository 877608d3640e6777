"""The Bedrock analyzer: an agent that gathers evidence and cites only what it read.

Per task, within a time budget:
1. the content: the text, the attachments as content blocks (images and PDFs by their bytes, videos by their S3
   location, audio as an Amazon Transcribe transcript) and the readable text of the links in the text, read by the
   safe fetcher (clara.integrations.fetcher);
2. claims: one Converse call whose forced `record_claims` tool lists the checkable claims (at most
   ANALYSIS_MAX_CLAIMS);
3. evidence: one grounded Converse call per claim (Nova Web Grounding, the `nova_grounding` system tool; at most
   GROUNDING_MAX_CALLS), whose `citationsContent` blocks name the web pages the model actually read;
4. verdicts: one Converse call whose forced `record_fact_check` tool judges each claim and the whole, citing
   evidence by id (E1 for a web citation, L1 for a linked page). clara.integrations.analyzers.evidence turns the ids
   into sources and removes every other link the model wrote.

While the verdict call runs, the safe fetcher reads the cited web pages (at most CITED_PAGES_PER_TASK,
CITED_PAGES_AT_ONCE side by side, each once), so that each source can show a quote from the page itself; a page not
read by the end of the budget has no quote. Each claim is anchored where the content states it
(clara.integrations.analyzers.anchors), from the verbatim span the claims step gives.

Typical task: 1 + claims + 1 calls (3 claims: 5); at most 2 + GROUNDING_MAX_CALLS (7 by default).
"""

import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import cache, partial
from pathlib import PurePosixPath
from typing import Any, TypeVar

from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from clara.aws import aws_client, aws_session
from clara.domain.analysis.ports import AttachmentInput, PermanentAnalysisError, Usage
from clara.domain.analysis.results import AnalysisResult, AnalyzerInfo, AttachmentReport
from clara.integrations.analyzers.anchors import Places, pdf_pages
from clara.integrations.analyzers.evidence import Draft, EvidenceBook, grounded_result, link_report, without_userinfo
from clara.integrations.analyzers.passages import flat
from clara.integrations.analyzers.prompts import (
    CLAIMS_PROMPT,
    CLAIMS_TOOL,
    GROUNDING_PROMPT,
    GROUNDING_TOOL,
    TOOL_NAME,
    VERDICT_PROMPT,
    ClaimList,
    ExtractedClaim,
    tool_schema,
)
from clara.integrations.analyzers.transcription import transcripts
from clara.integrations.deadline import Deadline
from clara.integrations.fetcher import FetchedPage, LinkOutcome, fetcher_for_settings, read_links
from clara.integrations.web.errors import FetchError
from clara.observability import logger
from clara.settings import get_settings

CONNECT_SECONDS = 5
PAGE_EXCERPT_CHARACTERS = 6_000  # of each linked page, in the prompts
EVIDENCE_EXCERPT_CHARACTERS = 600  # of each web citation, in the verdict prompt
FINDINGS_CHARACTERS = 2_000  # of each grounded answer, in the verdict prompt
CITED_PAGES_PER_TASK = 8  # web citations whose pages are read for quotes
CITED_PAGES_AT_ONCE = 3

IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
VIDEO_FORMATS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/x-matroska": "mkv",
    "video/webm": "webm",
    "video/mpeg": "mpeg",
}
# Bedrock's permanent errors: a bad request or a model not enabled stays so however often it is retried.
PERMANENT_ERRORS = {"ValidationException", "AccessDeniedException", "ResourceNotFoundException"}

_DOCUMENT_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9\s\-()\[\]]+")
Model = TypeVar("Model", bound=BaseModel)


class ModelOutputError(Exception):
    """The model's answer was cut short or did not fit the schema: transient, another try may do better."""


@cache
def _default_bedrock(read_timeout: int, pool: int) -> Any:
    # One attempt per call: a throttled or failed call fails this run, and the worker retries the task later
    # with a growing delay (clara.domain.analysis.worker), instead of botocore retrying inside the time budget.
    config = Config(
        connect_timeout=CONNECT_SECONDS,
        read_timeout=read_timeout,
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=max(pool, 10),
    )
    return aws_session().create_client("bedrock-runtime", config=config)


def _default_transcribe() -> Any:
    return aws_client("transcribe")


def _default_s3() -> Any:
    return aws_client("s3")


class BedrockAnalyzer:
    def __init__(
        self,
        bedrock: Any = None,
        transcribe: Any = None,
        s3: Any = None,
        *,
        model_id: str | None = None,
        clock: Callable[[float], None] = time.sleep,
        timer: Callable[[], float] = time.monotonic,
        read_links: Callable[[str], list[LinkOutcome]] = read_links,
        read_page: Callable[[str], FetchedPage] | None = None,
        web_grounding: bool | None = None,
        concurrency: int | None = None,
    ) -> None:
        settings = get_settings()
        self._bedrock = bedrock
        self._transcribe = transcribe
        self._s3 = s3
        self.model_id = model_id or settings.bedrock_model_id
        self._clock = clock
        self._timer = timer
        self._read_links = read_links
        self._read_page = read_page
        self.web_grounding = settings.web_grounding if web_grounding is None else web_grounding
        self._concurrency = concurrency or settings.grounding_concurrency
        self.usage = Usage()
        self._usage_lock = threading.Lock()

    # Clients are created on first use, so building an analyzer (or one that never sees audio) costs nothing.
    @property
    def bedrock(self) -> Any:
        return self._bedrock or _default_bedrock(get_settings().bedrock_read_timeout_seconds, self._concurrency)

    @property
    def transcribe(self) -> Any:
        return self._transcribe or _default_transcribe()

    @property
    def s3(self) -> Any:
        return self._s3 or _default_s3()

    def analyze(self, text: str, attachments: Sequence[AttachmentInput]) -> AnalysisResult:
        settings = get_settings()
        self.usage = Usage()
        # The analysis budget: a model call starts only if it, and the calls that must follow it, still fit.
        deadline = Deadline(settings.analysis_time_budget_seconds, self._timer)
        call_seconds = settings.bedrock_read_timeout_seconds + CONNECT_SECONDS
        places = Places(text)
        blocks, reports = self._content(attachments, places)
        links = self._read_links(text)
        book = EvidenceBook()
        for link in links:
            if link.page is not None:
                linked = book.add("L", link.page.url, link.page.title, None, link.page.text[:PAGE_EXCERPT_CHARACTERS])
                if linked:
                    book.pages[linked] = link.page.text
                places.links[without_userinfo(link.url)] = link.page.text
        content = [*blocks, {"text": _content_text(text, book)}]

        claims: list[str] = []
        spans: dict[str, str] = {}
        findings: dict[int, str] = {}
        if deadline.allows(2 * call_seconds):  # the claims call, and the verdict call after it
            listed = self._claims(content)[: settings.analysis_max_claims]
            claims = [claim.text for claim in listed]
            spans = {flat(claim.text).lower(): claim.span or claim.text for claim in listed}
        searched = claims[: settings.grounding_max_calls] if self.web_grounding else []
        if searched and deadline.allows(2 * call_seconds):  # a wave of grounded calls side by side, then the verdict
            findings = self._gather_evidence(searched, book)
        elif searched:
            logger.warning("No time left for web searches", extra={"claims": len(searched)})
        # The cited pages are read while the verdict call runs; what is not read by the budget's end is left
        # (not awaited: a slow page holds a thread for at most the fetcher's own time limit).
        pool = ThreadPoolExecutor(max_workers=CITED_PAGES_AT_ONCE)
        try:
            reading = self._read_cited_pages(book, pool)
            draft = self._verdicts(content, claims, findings, book)
            waited = time.perf_counter()
            self._keep_pages(reading, book, deadline)
            self.usage.reading_seconds = time.perf_counter() - waited
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        verdict = grounded_result(draft, book, lambda claim: places.anchor(spans.get(flat(claim).lower(), claim)))
        logger.info(
            "Analysis usage",
            extra={
                "model": self.model_id,
                **vars(self.usage),
                "claims": len(verdict.claims),
                "evidence": len(book.entries),
            },
        )
        return AnalysisResult(
            verdict=verdict.verdict,
            confidence=verdict.confidence,
            summary=verdict.summary,
            claims=verdict.claims,
            attachments=reports,
            analyzer=AnalyzerInfo(name="bedrock", model=self.model_id),
            links=[link_report(link) for link in links],
            searches=self.usage.grounded_calls,
        )

    # ------------------------------------------------------------------------------------- the three steps

    def _claims(self, content: list[dict[str, Any]]) -> list[ExtractedClaim]:
        instruction = {"text": f"List the checkable claims of the content above with {CLAIMS_TOOL}."}
        listed = self._forced_tool(CLAIMS_PROMPT, [*content, instruction], CLAIMS_TOOL, ClaimList, "List the claims.")
        return [ExtractedClaim(text=flat(claim.text)[:500], span=claim.span) for claim in listed.claims]

    def _gather_evidence(self, claims: list[str], book: EvidenceBook) -> dict[int, str]:
        """Each claim's grounded answer (for the verdict prompt); its citations enter the book as E<n>."""
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(claims))) as pool:
            answers = list(pool.map(self._grounded_search, claims))
        findings: dict[int, str] = {}
        for index, (answer_text, citations) in enumerate(answers):  # in claim order, so ids are stable
            added = (book.add("E", url, title, domain, excerpt) for url, title, domain, excerpt in citations)
            ids = [evidence_id for evidence_id in added if evidence_id is not None]
            cited = f" (cited: {', '.join(dict.fromkeys(ids))})" if ids else " (no sources cited)"
            findings[index] = answer_text[:FINDINGS_CHARACTERS] + cited
        return findings

    def _grounded_search(self, claim: str) -> tuple[str, list[tuple[str, str | None, str | None, str]]]:
        """One grounded call: the answer's text, and (url, title, domain, excerpt) of each web citation."""
        try:
            response = self._call(
                system=[{"text": GROUNDING_PROMPT}],
                messages=[{"role": "user", "content": [{"text": f"<claim>\n{claim}\n</claim>"}]}],
                toolConfig={"tools": [{"systemTool": {"name": GROUNDING_TOOL}}]},
                inferenceConfig={"maxTokens": 1024, "temperature": 0},
                grounded=True,
            )
        except PermanentAnalysisError as error:
            raise PermanentAnalysisError(
                f"Web search (Nova Web Grounding) is not available with model {self.model_id} here: {error}"
            ) from error
        texts: list[str] = []
        citations: list[tuple[str, str | None, str | None, str]] = []
        for block in response.get("output", {}).get("message", {}).get("content", []):
            if "text" in block:
                texts.append(block["text"])
            cited = block.get("citationsContent")
            if not cited:
                continue
            statement = " ".join(part.get("text", "") for part in cited.get("content", []))
            texts.append(statement)
            for citation in cited.get("citations", []):
                web = citation.get("location", {}).get("web", {})
                url = web.get("url")
                if not isinstance(url, str):
                    continue  # only what the grounding read, by its web location (the book checks the URL)
                quoted = " ".join(part.get("text", "") for part in citation.get("sourceContent", []))
                citations.append((url, citation.get("title"), web.get("domain"), (quoted or statement)[:1000]))
        return " ".join(" ".join(texts).split()), citations

    def _read_cited_pages(self, book: EvidenceBook, pool: ThreadPoolExecutor) -> dict[str, Future[FetchedPage]]:
        """Starts reading the web citations' pages through the safe fetcher; each URL is in the book once."""
        read = self._read_page or fetcher_for_settings().fetch
        cited = [evidence for evidence in book.entries.values() if evidence.id.startswith("E")]
        return {evidence.id: pool.submit(read, evidence.url) for evidence in cited[:CITED_PAGES_PER_TASK]}

    def _keep_pages(self, reading: dict[str, Future[FetchedPage]], book: EvidenceBook, deadline: Deadline) -> None:
        """The text of each page read by the end of the budget; a page not read leaves its source without quote."""
        done, unread = wait(reading.values(), timeout=deadline.remaining())
        if unread:
            logger.warning("No time left to read every cited page", extra={"unread": len(unread)})
        for evidence_id, future in reading.items():
            if future not in done:
                continue
            try:
                book.pages[evidence_id] = future.result().text
            except FetchError:
                continue  # a 404, a refusal, a type the fetcher does not read: the source stays, unquoted
            except Exception as error:
                logger.warning("Reading a cited page failed unexpectedly", extra={"error_type": type(error).__name__})

    def _verdicts(
        self, content: list[dict[str, Any]], claims: list[str], findings: dict[int, str], book: EvidenceBook
    ) -> Draft:
        lines = ["Fact-check the content above, then call record_fact_check."]
        if claims:
            lines.append("\nThe claims to judge:")
            for index, claim in enumerate(claims):
                lines.append(f"{index + 1}. {claim}")
                if index in findings:
                    lines.append(f"   Web research: {findings[index]}")
        web = [evidence for evidence in book.entries.values() if evidence.id.startswith("E")]
        if web:
            lines.append("\nEvidence from the web (cite by id):")
            lines.extend(f"[{e.id}] {e.title} ({e.domain}): {e.excerpt[:EVIDENCE_EXCERPT_CHARACTERS]}" for e in web)
        if not book.entries:
            lines.append("\nNo evidence was gathered: judge from the content alone or answer UNVERIFIABLE.")
        instruction = {"text": "\n".join(lines)}
        return self._forced_tool(VERDICT_PROMPT, [*content, instruction], TOOL_NAME, Draft, "Record the fact-check.")

    # ------------------------------------------------------------------------------------- calling the model

    def _forced_tool(
        self, system: str, content: list[dict[str, Any]], tool: str, schema: type[Model], description: str
    ) -> Model:
        response = self._call(
            system=[{"text": system}],
            messages=[{"role": "user", "content": content}],
            toolConfig={
                "tools": [
                    {
                        "toolSpec": {
                            "name": tool,
                            "description": description,
                            "inputSchema": {"json": tool_schema(schema)},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": tool}},
            },
            inferenceConfig={"maxTokens": 4096, "temperature": 0},
        )
        if response.get("stopReason") == "max_tokens":
            raise ModelOutputError("The model's answer was cut short at the token limit.")
        blocks = response.get("output", {}).get("message", {}).get("content", [])
        tool_input = next(
            (block["toolUse"].get("input") for block in blocks if block.get("toolUse", {}).get("name") == tool), None
        )
        if tool_input is None:
            raise ModelOutputError(f"The model did not call the {tool} tool.")
        try:
            return schema.model_validate(tool_input)
        except ValidationError as error:
            # Only the count: the errors echo the model's input, which is the user's content.
            raise ModelOutputError(
                f"The model's answer did not fit the schema ({error.error_count()} errors)."
            ) from None

    def _call(self, *, grounded: bool = False, **request: Any) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response: dict[str, Any] = self.bedrock.converse(modelId=self.model_id, **request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in PERMANENT_ERRORS:
                # AWS's message can name the role or account: it goes to the log, not to the user's task.
                logger.error("Bedrock refused the request", extra={"code": code, "model": self.model_id})
                raise PermanentAnalysisError(f"The model refused the request ({code}).") from error
            raise
        usage = response.get("usage", {})
        with self._usage_lock:
            self.usage.model_calls += 1
            self.usage.grounded_calls += int(grounded)
            self.usage.input_tokens += int(usage.get("inputTokens", 0))
            self.usage.output_tokens += int(usage.get("outputTokens", 0))
        logger.info(
            "Bedrock answered",
            extra={
                "model": self.model_id,
                "grounded": grounded,
                "stop_reason": response.get("stopReason"),
                "input_tokens": usage.get("inputTokens"),
                "output_tokens": usage.get("outputTokens"),
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        return response

    # ------------------------------------------------------------------------------------- the content

    def _content(
        self, attachments: Sequence[AttachmentInput], places: Places
    ) -> tuple[list[dict[str, Any]], list[AttachmentReport]]:
        blocks: list[dict[str, Any]] = []
        notes: list[str] = []
        document_names: set[str] = set()
        audio = [attachment for attachment in attachments if attachment.kind == "audio"]
        spoken_texts = transcripts(self.transcribe, self.s3, audio, self._clock) if audio else {}
        for index, attachment in enumerate(attachments):
            if attachment.kind == "image":
                image_format = _format(IMAGE_FORMATS, attachment)
                blocks.append({"image": {"format": image_format, "source": {"bytes": attachment.read()}}})
                notes.append("Sent to the model as an image.")
            elif attachment.kind == "pdf":
                name = document_name(attachment.name, document_names)
                document_names.add(name)
                content = attachment.read()
                blocks.append({"document": {"format": "pdf", "name": name, "source": {"bytes": content}}})
                places.pdfs[index] = partial(pdf_pages, content)
                notes.append("Sent to the model as a PDF document.")
            elif attachment.kind == "video":
                # By S3 location: Bedrock reads the file itself, so a video never passes through this function.
                video_format = _format(VIDEO_FORMATS, attachment)
                source = {"s3Location": {"uri": attachment.s3_uri}}
                blocks.append({"video": {"format": video_format, "source": source}})
                notes.append("Sent to the model as a video.")
            else:
                transcript = spoken_texts[attachment.s3_uri]
                places.transcripts[index] = transcript
                spoken = transcript.text or "(no speech recognised)"
                blocks.append({"text": f"Transcript of {attachment.name}: {spoken}"})
                notes.append("Transcribed with Amazon Transcribe.")
        reports = [
            AttachmentReport(
                name=attachment.name, media_type=attachment.media_type, size_bytes=attachment.size_bytes, notes=note
            )
            for attachment, note in zip(attachments, notes, strict=True)
        ]
        return blocks, reports


def _content_text(text: str, book: EvidenceBook) -> str:
    content = text.strip() or "(No text: check the attachments.)"
    parts = [f"<content>\n{content}\n</content>"]
    for evidence in book.entries.values():  # only linked pages so far: the web evidence comes later
        title = evidence.title.replace('"', "'")
        parts.append(f'<linked_page id="{evidence.id}" title="{title}">\n{evidence.excerpt}\n</linked_page>')
    return "\n\n".join(parts)


def _format(formats: dict[str, str], attachment: AttachmentInput) -> str:
    try:
        return formats[attachment.media_type]
    except KeyError:
        raise PermanentAnalysisError(f"{attachment.name} has a media type the model cannot read.") from None


def document_name(name: str, taken: set[str]) -> str:
    """A name Bedrock accepts (letters, digits, single spaces, hyphens, parentheses, square brackets; at most
    200 characters; unique in the request). The file name is the user's, so it is also kept from carrying
    anything but plain words into the prompt."""
    base = " ".join(_DOCUMENT_NAME_UNSAFE.sub("-", PurePosixPath(name).stem).split())[:190].strip(" -") or "Document"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base} ({number})", number + 1
    return candidate
