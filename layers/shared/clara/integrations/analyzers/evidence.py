"""The evidence rule: a source shown to a customer is something the system actually read.

Evidence enters only here, from what was read: a citation Bedrock's web grounding returned (`E1`, `E2`...) or a
page the safe fetcher read from a link in the content (`L1`...). The verdict step refers to evidence by these
ids; `grounded_result` turns ids back into sources and drops everything else a model wrote that looks like a
link, so a URL a model invents (in its text or in its tool input) never reaches the result.

A source's quote is found the same way: in the text the system read at that URL (the book's `pages`), the passage
the verdict step pointed at if the page holds it, else the page's passage that best matches the claim. A model's
words are never shown as a quote (clara.integrations.analyzers.passages).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from clara.domain.analysis.results import Anchor, Claim, LinkReport, Source, Verdict
from clara.integrations.analyzers.passages import best_passage, find
from clara.integrations.fetcher import LinkOutcome

# Links a model may write: with a scheme, starting with www., or a bare host name followed by a path.
_WRITTEN_LINK = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)[^\s<>\"'`]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"'`]*"
)
_TRAILING = ".,;:!?)]}'\""
# The user name and password a link may carry before its host (scheme://user:password@host/...).
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/?#]*@", re.IGNORECASE)
LINK_REMOVED = "[link removed]"
NO_EVIDENCE = "No cited evidence was found for this claim, so it is marked unverifiable."
CONTENT_ONLY = "Judged from the content itself; no outside source was cited."


def without_userinfo(url: str) -> str:
    """`url` without a user name and password: never shown to a customer, whoever wrote them into the link."""
    return _USERINFO.sub(r"\1", url)


def shown_url(url: str) -> str | None:
    """`url` as a source may show it: an http(s) URL with a host, without userinfo; None for anything else."""
    url = without_userinfo(url)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [IPv6 host
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


@dataclass(frozen=True)
class Evidence:
    id: str
    url: str
    title: str
    domain: str | None
    excerpt: str  # what the citation said of the page, for the verdict step and to rank passages; never shown


@dataclass
class EvidenceBook:
    """Everything read for one task, by id. A URL is entered once, under its first id, as shown_url shows it:
    every source enters here, so none carries a credential or another scheme, and a model that copies the URL
    with its credentials into its text has it scrubbed like any link that was not read."""

    entries: dict[str, Evidence] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # by id: the text the safe fetcher read at its URL
    _by_url: dict[str, str] = field(default_factory=dict)

    def add(self, prefix: str, url: str, title: str | None, domain: str | None, excerpt: str) -> str | None:
        """The evidence's id; None when the URL may not be shown (it is then no evidence)."""
        shown = shown_url(url)
        if shown is None:
            return None
        url = shown
        if url in self._by_url:
            return self._by_url[url]
        number = sum(1 for key in self.entries if key.startswith(prefix)) + 1
        evidence_id = f"{prefix}{number}"
        host = domain or urlsplit(url).hostname
        self.entries[evidence_id] = Evidence(evidence_id, url, (title or host or url).strip()[:300], host, excerpt)
        self._by_url[url] = evidence_id
        return evidence_id

    def sources(self, drafted: "DraftClaim") -> list[Source]:
        """The sources for the ids the verdict step gave, in its order, each once; unknown ids are dropped. Each
        carries the stance the verdict step gave it and a quote from its page (see `quote`)."""
        judged = {judgement.id.strip().upper(): judgement for judgement in drafted.judgements}
        seen: set[str] = set()
        found: list[Source] = []
        for evidence_id in drafted.evidence_ids:
            evidence = self.entries.get(evidence_id.strip().upper())
            if evidence is None or evidence.id in seen:
                continue
            seen.add(evidence.id)
            judgement = judged.get(evidence.id)
            pointed = judgement.passage if judgement else None
            found.append(
                Source(
                    title=evidence.title,
                    url=evidence.url,
                    domain=evidence.domain,
                    quote=self.quote(evidence, drafted.text, pointed),
                    stance=judgement.stance if judgement else None,
                )
            )
        return found

    def quote(self, evidence: Evidence, claim: str, pointed: str | None = None) -> str | None:
        """A passage of the page read at the evidence's URL: the one the model pointed at if the page holds it,
        else the best match for the claim and the citation; None when the page was not read or nothing matched."""
        page = self.pages.get(evidence.id)
        if not page:
            return None
        return (find(pointed, page) if pointed else None) or best_passage(page, claim, evidence.excerpt)

    @property
    def urls(self) -> set[str]:
        return set(self._by_url)


def scrub_links(text: str, allowed: set[str]) -> str:
    """`text` with every written link that is not an allowed (read) URL replaced by a marker."""

    def replace(match: re.Match[str]) -> str:
        link = match.group(0)
        core = link.rstrip(_TRAILING)
        return link if core in allowed else LINK_REMOVED + link[len(core) :]

    return _WRITTEN_LINK.sub(replace, text)


class Judgement(BaseModel):
    """How one cited piece of evidence bears on the claim."""

    id: str = Field(description="The evidence id (E1, L1...).")
    stance: Literal["supports", "refutes"] | None = Field(
        default=None, description="Whether this evidence supports or refutes the claim (not the verdict)."
    )
    passage: str | None = Field(
        default=None,
        description="The sentence of this evidence that bears on the claim, copied word for word from it.",
    )


class DraftClaim(BaseModel):
    """One claim as the verdict step judges it: evidence by id only, there is no field for a URL."""

    text: str = Field(min_length=1)
    verdict: Verdict
    confidence: float = Field(ge=0, le=1)
    explanation: str
    evidence_ids: list[str] = Field(
        default_factory=list, description="Ids of the evidence (E1, L1...) that supports this verdict."
    )
    settled_by_content: bool = Field(
        default=False, description="True only if the content itself settles the claim without outside evidence."
    )
    judgements: list[Judgement] = Field(
        default_factory=list, description="For each evidence id cited: its stance on the claim and its passage."
    )


class Draft(BaseModel):
    """What the verdict step's forced tool returns."""

    verdict: Verdict
    confidence: float = Field(ge=0, le=1)
    summary: str
    claims: list[DraftClaim]


@dataclass(frozen=True)
class GroundedVerdict:
    verdict: Verdict
    confidence: float
    summary: str
    claims: list[Claim]


def grounded_result(
    draft: Draft, book: EvidenceBook, anchor: Callable[[str], Anchor | None] = lambda _: None
) -> GroundedVerdict:
    """The draft with sources only from the book and no other links, each claim anchored by `anchor`.

    A claim without cited evidence is UNVERIFIABLE (confidence 0) unless the verdict step said the content alone
    settles it; either way its explanation says so. When no claim keeps a verdict, neither does the whole.
    """
    allowed = book.urls
    claims: list[Claim] = []
    for drafted in draft.claims:
        sources = book.sources(drafted)
        explanation = scrub_links(drafted.explanation, allowed).strip()
        verdict, confidence = drafted.verdict, drafted.confidence
        if not sources and drafted.settled_by_content:
            explanation = f"{explanation} {CONTENT_ONLY}".strip()
        elif not sources:
            verdict, confidence = "UNVERIFIABLE", 0.0
            explanation = f"{NO_EVIDENCE} {explanation}".strip()
        claims.append(
            Claim(
                text=scrub_links(drafted.text, allowed),
                verdict=verdict,
                confidence=confidence,
                explanation=explanation,
                sources=sources,
                anchor=anchor(drafted.text),
            )
        )
    verdict, confidence = draft.verdict, draft.confidence
    if all(claim.verdict == "UNVERIFIABLE" for claim in claims):
        verdict, confidence = "UNVERIFIABLE", 0.0
    return GroundedVerdict(verdict, confidence, scrub_links(draft.summary, allowed), claims)


def link_report(link: LinkOutcome) -> LinkReport:
    """A link of the content as the result reports it, without userinfo (a link of another scheme stays, reported
    refused, so the user learns why it was not read); a page read is evidence the verdict step may cite."""
    return LinkReport(
        url=without_userinfo(link.url),
        status=link.status,
        title=link.page.title if link.page else None,
        notes=link.notes,
    )
