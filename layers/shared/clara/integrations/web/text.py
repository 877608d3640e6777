"""What a page says: its type (HTML, plain text or PDF, by the Content-Type header or by sniffing) and its readable
text, paragraphs kept apart, with a title."""

import io
import re
from html.parser import HTMLParser
from typing import Literal

from clara.integrations.web.errors import FetchFailed, FetchRefused

MAX_PDF_PAGES = 50
MIN_MAIN_CHARACTERS = 200  # less in <article>/<main> is a teaser or a caption: the whole body is read instead
ACCEPT = "text/html, text/plain, application/pdf;q=0.9"

MediaType = Literal["text/html", "text/plain", "application/pdf"]
_MEDIA_TYPES: dict[str, MediaType] = {
    "text/html": "text/html",
    "application/xhtml+xml": "text/html",
    "text/plain": "text/plain",
    "application/pdf": "application/pdf",
}
MEDIA_LABELS: dict[MediaType, str] = {"text/html": "HTML", "text/plain": "plain text", "application/pdf": "PDF"}


def declared_type(content_type: str | None) -> MediaType | None:
    """The type the Content-Type header names (rule 6); None when missing or generic, to sniff the body."""
    name = (content_type or "").split(";", 1)[0].strip().lower()
    if name in ("", "application/octet-stream"):
        return None
    if name not in _MEDIA_TYPES:
        raise FetchRefused(f"{name} is not a type Clara reads; it reads web pages, plain text and PDF.")
    return _MEDIA_TYPES[name]


def sniff(body: bytes) -> MediaType:
    if body.startswith(b"%PDF-"):
        return "application/pdf"
    raise FetchRefused("The link's type could not be told; Clara reads web pages, plain text and PDF.")


def page_text(body: bytes, media: MediaType, charset: str | None) -> tuple[str, str]:
    """(title, text) of a page of that type; the title is empty when the page names none."""
    if media == "application/pdf":
        return _pdf_text(body)
    if media == "text/html":
        return _html_text(_decode(body, charset or _meta_charset(body)))
    return "", _normalise(_decode(body, charset))


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE)


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def _decode(body: bytes, charset: str | None) -> str:
    """The charset named by the site, else utf-8; undecodable bytes become U+FFFD rather than failing."""
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except (LookupError, ValueError):
            pass  # an unknown or non-text codec name
    return body.decode("utf-8", errors="replace")


_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _normalise(text: str) -> str:
    """Paragraphs apart by one blank line, lines kept, runs of spaces made one space, every line stripped.

    Paragraph breaks matter downstream: the analyzers split claims at sentence ends and at blank lines, so a heading
    without a full stop must not run into the sentence under it.
    """
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def one_line(text: str) -> str:
    return " ".join(text.split())


class _MainText(HTMLParser):
    """The readable text of a page: the body without scripts, menus and chrome, and the article or main part apart.

    Block elements become paragraph breaks (a blank line) and <br> a line break, so paragraphs stay apart; the
    title is the <title>, else the first <h1>.
    """

    SKIPPED = frozenset(
        {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form", "iframe"}
    )
    MAIN = frozenset({"article", "main"})
    BLOCKS = frozenset(
        {
            "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "hr", "tr", "td", "th", "table", "section",
            "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figure", "figcaption", "article", "main",
            "address", "details", "summary",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.body: list[str] = []
        self.main: list[str] = []
        self.title: list[str] = []
        self.heading: list[str] = []
        self._skipped: dict[str, int] = {}
        self._main_depth = 0
        self._in_title = False
        self._h1_state: Literal["before", "inside", "done"] = "before"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self._skipped[tag] = self._skipped.get(tag, 0) + 1
        elif tag in self.MAIN:
            self._main_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "h1" and self._h1_state == "before" and not self._skipping:
            self._h1_state = "inside"
        self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._break(tag)  # <br/>, <svg/>: nothing opened

    def handle_endtag(self, tag: str) -> None:
        if self._skipped.get(tag):
            self._skipped[tag] -= 1
        elif tag in self.MAIN and self._main_depth:
            self._main_depth -= 1
        elif tag == "title":
            self._in_title = False
        elif tag == "h1" and self._h1_state == "inside":
            self._h1_state = "done"
        self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skipping:
            self.body.append(data)
            if self._main_depth:
                self.main.append(data)
            if self._h1_state == "inside":
                self.heading.append(data)

    @property
    def _skipping(self) -> bool:
        return any(self._skipped.values())

    def _break(self, tag: str) -> None:
        if self._skipping or (tag not in self.BLOCKS and tag != "br"):
            return
        separator = "\n" if tag == "br" else "\n\n"
        self.body.append(separator)
        if self._main_depth:
            self.main.append(separator)


def _html_text(html: str) -> tuple[str, str]:
    """(title, text): the article or main text when it holds a real amount of text, else the whole body."""
    parser = _MainText()
    parser.feed(html)
    parser.close()
    main = _normalise("".join(parser.main))
    text = main if len(main) >= MIN_MAIN_CHARACTERS else _normalise("".join(parser.body))
    title = one_line("".join(parser.title)) or one_line("".join(parser.heading))
    return title, text


def _pdf_text(body: bytes) -> tuple[str, str]:
    """(title, text) of at most MAX_PDF_PAGES pages; pypdf is imported here, as it is heavy for a cold start."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [reader.pages[index].extract_text() or "" for index in range(min(len(reader.pages), MAX_PDF_PAGES))]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as error:  # pypdf raises many kinds of error for a damaged file
        raise FetchFailed("The PDF could not be read.") from error
    return str(title), _normalise("\n\n".join(pages))
