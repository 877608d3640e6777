"""Finding the links in a text: every scheme, so that the fetcher can report the ones it refuses."""

import re

# A scheme written as a URL (http://, ftp://, file://, ...), javascript:, or a bare www. host; never from inside a
# word, a host name or an e-mail address. The link runs to the next whitespace, quote or angle bracket.
_LINK = re.compile(
    r"""(?:(?<![\w+.\-])[a-z][a-z0-9+.\-]*://|(?<![\w.@/\-])www\.|(?<![\w.\-])javascript:)[^\s<>"`]+""",
    re.IGNORECASE,
)
# Sentence punctuation that ends a sentence rather than a link, ASCII and CJK full-width.
_TRAILING = ".,;:!?)]}'\"\u3002\uff0c\u3001\uff1b\uff1a\uff01\uff1f\uff09"
_BRACKETS = {")": "(", "]": "[", "}": "{"}


def find_links(text: str) -> list[str]:
    """http(s) URLs and bare www. hosts in the text, in order of appearance, each once.

    Trailing punctuation is sentence punctuation, not part of the link, except a closing bracket that closes one
    opened inside the link (https://en.wikipedia.org/wiki/Mercury_(planet)). `www.example.com/x` becomes
    `https://www.example.com/x`. Other schemes (ftp://, file://, javascript:, ...) are returned too, so that
    read_links can report them refused rather than silently skip them.
    """
    links: dict[str, None] = {}
    for match in _LINK.finditer(text):
        link = _strip_trailing(match.group())
        if link.lower().startswith("www."):
            link = "https://" + link
        if _has_body(link):
            links.setdefault(link, None)
    return list(links)


def _strip_trailing(link: str) -> str:
    while link and link[-1] in _TRAILING:
        opening = _BRACKETS.get(link[-1])
        if opening is not None and link.count(opening) >= link.count(link[-1]):
            break
        link = link[:-1]
    return link


def _has_body(link: str) -> bool:
    """Something after the scheme: `http://` or `www.` alone is not a link."""
    _, _, rest = link.partition("://") if "://" in link else link.partition(":")
    return bool(rest.strip("/.")) and not link.lower().endswith("://www.")
