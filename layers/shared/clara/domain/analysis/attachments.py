"""What the agent accepts: the supported extensions and size caps per media type (from settings), and the
check of each uploaded file: a supported extension, content whose magic bytes match its type, and its cap."""

import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from clara.contract.errors import InvalidSchema
from clara.settings import Settings, get_settings

MediaKind = Literal["image", "video", "audio", "pdf"]
KINDS: tuple[MediaKind, ...] = ("image", "video", "audio", "pdf")

# Magic bytes per extension: (offset, bytes) alternatives; a file must match one of them.
_SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    ".png": ((0, b"\x89PNG\r\n\x1a\n"),),
    ".jpg": ((0, b"\xff\xd8\xff"),),
    ".jpeg": ((0, b"\xff\xd8\xff"),),
    ".gif": ((0, b"GIF87a"), (0, b"GIF89a")),
    ".webp": ((8, b"WEBP"),),
    ".pdf": ((0, b"%PDF-"),),
    ".mp4": ((4, b"ftyp"),),
    ".m4a": ((4, b"ftyp"),),
    ".mov": ((4, b"ftyp"), (4, b"moov"), (4, b"wide"), (4, b"mdat")),
    ".mkv": ((0, b"\x1a\x45\xdf\xa3"),),
    ".webm": ((0, b"\x1a\x45\xdf\xa3"),),
    ".mpeg": ((0, b"\x00\x00\x01\xba"), (0, b"\x00\x00\x01\xb3")),
    ".mp3": ((0, b"ID3"), (0, b"\xff\xfb"), (0, b"\xff\xf3"), (0, b"\xff\xf2")),
    ".wav": ((8, b"WAVE"),),
    ".ogg": ((0, b"OggS"),),
    ".flac": ((0, b"fLaC"),),
}
_RIFF = {".webp", ".wav"}  # RIFF containers also start with b"RIFF"

MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".mpeg": "video/mpeg",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
}

# A name is shown back to the user (the task, the result) and to the model: no path separators, and nothing that
# reorders or hides what it shows (U+202E makes "invoice\u202egnp.exe" read "invoiceexe.png"): no controls (Cc),
# format characters (Cf: bidi marks, embeddings, overrides and isolates, zero width spaces) or line and paragraph
# separators (Zl, Zp). The joiners stay: Persian and Indic names and emoji sequences are spelled with them.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_JOINERS = frozenset("\u200c\u200d")  # zero width non-joiner and joiner


def _safe_name(name: str) -> bool:
    return (
        0 < len(name) <= 255
        and name not in (".", "..")
        and not any(
            char in "/\\" or (unicodedata.category(char) in _REFUSED_CATEGORIES and char not in _JOINERS)
            for char in name
        )
    )


def supported_extensions(settings: Settings | None = None) -> dict[MediaKind, list[str]]:
    settings = settings or get_settings()
    lists = {
        "image": settings.supported_image_extensions,
        "video": settings.supported_video_extensions,
        "audio": settings.supported_audio_extensions,
        "pdf": settings.supported_pdf_extensions,
    }
    return {kind: [ext.strip().lower() for ext in lists[kind].split(",") if ext.strip()] for kind in KINDS}


def size_caps(settings: Settings | None = None) -> dict[MediaKind, int]:
    settings = settings or get_settings()
    return {
        "image": settings.max_image_attachment_size,
        "video": settings.max_video_attachment_size,
        "audio": settings.max_audio_attachment_size,
        "pdf": settings.max_pdf_attachment_size,
    }


def supported_attachments_view() -> dict[str, list[str]]:
    """GET /agent/supported_attachments: extension lists by media type (docs/contract.md, Supported attachments)."""
    return {kind: extensions for kind, extensions in supported_extensions().items()}


@dataclass(frozen=True)
class Upload:
    """A file as checked: its (client-given) name, kind, media type and bytes."""

    name: str
    extension: str
    kind: MediaKind
    media_type: str
    content: bytes


def check_upload(name: str, content: bytes) -> Upload:
    """The upload if its name, extension, magic bytes and size are all acceptable; 400 Invalid Schema if not."""
    if not _safe_name(name):
        raise InvalidSchema.because("files", "a file name has 1 to 255 characters, no slashes or control characters")
    extension = PurePosixPath(name).suffix.lower()
    kind = next((k for k, extensions in supported_extensions().items() if extension in extensions), None)
    if kind is None:
        raise InvalidSchema.because(name, f"{extension or 'no extension'} is not a supported type of attachment")
    if not content:
        raise InvalidSchema.because(name, "empty")
    if len(content) > size_caps()[kind]:
        raise InvalidSchema.because(name, f"over the {size_caps()[kind]} bytes allowed for {kind}")
    if not _magic_matches(extension, content):
        raise InvalidSchema.because(name, f"its content is not {extension}")
    return Upload(name, extension, kind, MEDIA_TYPES.get(extension, "application/octet-stream"), content)


def _magic_matches(extension: str, content: bytes) -> bool:
    signatures = _SIGNATURES.get(extension)
    if signatures is None:  # an extension configured without a known signature cannot be checked: refuse it
        return False
    if extension in _RIFF and not content.startswith(b"RIFF"):
        return False
    return any(content[offset : offset + len(magic)] == magic for offset, magic in signatures)
