"""Finding text in text: the quote a source shows, and where a claim was stated.

Both answer with the reader's own characters, never a model's: `find` returns the passage as it stands in the text
it searched (a model's words only tell where to look), `best_passage` picks sentences of the page, and `locate`
returns offsets into the text it was given. Matching ignores runs of whitespace and case, nothing else.
"""

import re

QUOTE_CHARACTERS = 300
MIN_SHARED_WORDS = 2  # a passage sharing fewer content words with the claim is no match
MIN_SHARE = 0.3  # ... nor one holding less than this share of the claim's content words

_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n{2,}")  # lines wrap inside a sentence (PDFs); blank lines part
# Words that match everywhere and tell nothing about a claim.
_STOP_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of",
        "on", "or", "that", "the", "this", "to", "was", "were", "which", "with", "not", "no", "than", "then", "there",
        "these", "those", "also", "been", "being", "but", "can", "could", "did", "do", "does", "had", "he", "she",
        "they", "we", "you", "i",
    }
)  # fmt: skip


def flat(text: str) -> str:
    """The text with every run of whitespace one space: how quotes are shown."""
    return " ".join(text.split())


def locate(span: str, text: str) -> tuple[int, int] | None:
    """(start, end) such that text[start:end] is `span`, as whole words: first in the same case, else in any case,
    whitespace runs matching whitespace runs either way."""
    words = span.split()
    if not words:
        return None
    # Whole words only: "he" is not found inside "the".
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(word) for word in words) + r"(?!\w)"
    match = re.search(pattern, text) or re.search(pattern, text, re.IGNORECASE)
    return match.span() if match else None


def find(passage: str, page: str) -> str | None:
    """`passage` as the page's own (whitespace-flattened) text holds it; None when the page does not hold it, or
    when it is too short to say anything (fewer than MIN_SHARED_WORDS content words)."""
    if len(_content_words(passage)) < MIN_SHARED_WORDS:
        return None
    located = locate(flat(passage), flat(page))
    if located is None:
        return None
    return _cut(flat(page)[located[0] : located[1]])


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP_WORDS and len(word) > 1}


def best_passage(page: str, claim: str, hint: str = "") -> str | None:
    """The page's sentence, or two consecutive sentences, sharing the most content words with the claim (and,
    to break ties, with what the citation said of the page); None when none shares enough with the claim."""
    wanted = _content_words(claim)
    hinted = _content_words(hint) - wanted
    if not wanted:
        return None
    sentences = [flat(sentence) for sentence in _SENTENCE_END.split(page) if sentence.strip()]
    best: tuple[float, str] | None = None
    for index, sentence in enumerate(sentences):
        for window in (sentence, f"{sentence} {sentences[index + 1]}" if index + 1 < len(sentences) else ""):
            if not window:
                continue
            window = _cut(window)
            words = _content_words(window)
            shared = len(words & wanted)
            if shared < MIN_SHARED_WORDS or shared / len(wanted) < MIN_SHARE:
                continue
            # Claim words first, the citation's words as a tie-break, and shorter passages among equals.
            score = shared + 0.1 * len(words & hinted) - 0.001 * len(window)
            if best is None or score > best[0]:
                best = (score, window)
    return best[1] if best else None


def _cut(passage: str) -> str:
    """At most QUOTE_CHARACTERS, cut at a word boundary: still a passage of the page."""
    if len(passage) <= QUOTE_CHARACTERS:
        return passage
    return passage[:QUOTE_CHARACTERS].rsplit(" ", 1)[0]
