"""Small but real sample files for the analysis tests (each with the header a real file of its format has), and a
multipart/form-data body builder that writes the bytes a browser or `requests` would send."""

import io
import struct
import uuid
import wave
import zlib
from collections.abc import Iterable

# ------------------------------------------------------------------------------------------- images


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int = 3, height: int = 2) -> bytes:
    """A decodable PNG: 8-bit greyscale, every pixel black."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x00" * width for _ in range(height))  # filter byte + one byte per pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(pixels))
        + _png_chunk(b"IEND", b"")
    )


def gif(width: int = 5, height: int = 4) -> bytes:
    """A GIF89a with a two-colour palette and one image block."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # global colour table of 2 entries
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    data = b"\x02\x02\x44\x01\x00"  # LZW minimum code size 2, one sub-block, terminator
    return b"GIF89a" + screen + palette + image + data + b";"


def jpeg(width: int = 640, height: int = 480) -> bytes:
    """The header segments of a baseline JFIF JPEG (SOI, APP0, DQT, SOF0), then EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\x00" + bytes(range(1, 65))
    sof0 = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    return b"\xff\xd8" + segment(0xE0, app0) + segment(0xDB, dqt) + segment(0xC0, sof0) + b"\xff\xd9"


def webp(width: int = 800, height: int = 600) -> bytes:
    """An extended-format (VP8X) WebP header."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


# ------------------------------------------------------------------------------------------- audio and video


def wav(seconds: float = 1.5, rate: int = 8000) -> bytes:
    """A real PCM WAV (mono, 16-bit) of silence, written by the standard library."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x00" * round(seconds * rate))
    return buffer.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(duration: int = 12_500, timescale: int = 1000, *, version: int = 0, brand: bytes = b"isom") -> bytes:
    """An ISO BMFF file: `ftyp`, then `moov` holding an `mvhd` of the given duration (version 0 or 1)."""
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    rest = struct.pack(">iH", 0x00010000, 0x0100) + b"\x00" * 10 + b"\x00" * 36 + b"\x00" * 24 + struct.pack(">I", 2)
    mvhd = _box(b"mvhd", bytes([version]) + b"\x00\x00\x00" + times + rest)
    return ftyp + _box(b"moov", mvhd)


def mov(duration: int = 3000, timescale: int = 600) -> bytes:
    return mp4(duration, timescale, brand=b"qt  ")


def m4a(duration: int = 441_000, timescale: int = 44_100) -> bytes:
    return mp4(duration, timescale, brand=b"M4A ")


def mp3() -> bytes:
    """An ID3v2.4 tag with no frames, then one MPEG-1 Layer III frame header and its (silent) body."""
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 413


def ogg() -> bytes:
    """The first page of an Ogg stream (the capture pattern and a page header)."""
    return b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e" + b"\x01vorbis" + b"\x00" * 23


def flac() -> bytes:
    """The `fLaC` marker and a last-metadata-block STREAMINFO of 34 bytes."""
    return b"fLaC\x80\x00\x00\x22" + b"\x10\x00\x10\x00" + b"\x00" * 30


def mkv(doc_type: bytes = b"matroska") -> bytes:
    """An EBML header naming the document type."""
    doc = b"\x42\x82" + bytes([0x80 | len(doc_type)]) + doc_type
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doc)]) + doc


def webm() -> bytes:
    return mkv(b"webm")


def mpeg() -> bytes:
    """An MPEG program stream pack header."""
    return b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01\x01\x89\xc3\xf8" + b"\x00\x00\x01\xb9"


# ------------------------------------------------------------------------------------------- documents


def pdf(text: str = "Hello claims.") -> bytes:
    """A valid one-page PDF whose content stream shows `text` in Type1 Helvetica, with a correct xref table."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


# One valid sample per supported extension (the defaults of clara.settings).
SAMPLES: dict[str, bytes] = {
    ".png": png(),
    ".jpg": jpeg(),
    ".jpeg": jpeg(),
    ".gif": gif(),
    ".webp": webp(),
    ".pdf": pdf(),
    ".mp4": mp4(),
    ".mov": mov(),
    ".mkv": mkv(),
    ".webm": webm(),
    ".mpeg": mpeg(),
    ".mp3": mp3(),
    ".wav": wav(),
    ".m4a": m4a(),
    ".ogg": ogg(),
    ".flac": flac(),
}

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


# ------------------------------------------------------------------------------------------- multipart


def multipart(
    fields: Iterable[tuple[str, str | bytes]] = (),
    files: Iterable[tuple[str, bytes] | tuple[str, bytes, str]] = (),
    *,
    boundary: str | None = None,
) -> tuple[bytes, str]:
    """(body, Content-Type) of a multipart/form-data request: form fields, then file parts whose field name is the
    file name (as the analysis endpoint expects); a file may name its own field as (field, content, filename)."""
    boundary = boundary or f"clara-{uuid.uuid4().hex}"
    out = bytearray()
    for name, value in fields:
        content = value.encode() if isinstance(value, str) else value
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + content + b"\r\n"
    for file in files:
        name, content = file[0], file[1]
        filename = file[2] if len(file) == 3 else name
        extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        media_type = MEDIA_TYPES.get(extension, "application/octet-stream")
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {media_type}\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


# ------------------------------------------------------------------------------------------- what comes back

TASK_FIELDS = {"id", "user_id", "status", "attachments", "result", "error", "created_at", "updated_at"}
VERDICTS = {"TRUE", "MOSTLY_TRUE", "MIXED", "MOSTLY_FALSE", "FALSE", "UNVERIFIABLE"}


_ANCHOR_KEYS = (
    {"in", "start", "end"},  # in the text
    {"in", "index", "page"},  # on a PDF page
    {"in", "index", "start_seconds", "end_seconds"},  # in a recording
    {"in", "url"},  # on a linked page
)


def _anchor_ok(anchor: object) -> bool:
    """None, or one of the four anchor shapes of docs/contract.md with its `in`."""
    if anchor is None:
        return True
    if not isinstance(anchor, dict) or set(anchor) not in _ANCHOR_KEYS:
        return False
    expected = {"start": "text", "page": "attachment", "start_seconds": "attachment", "url": "link"}
    return any(anchor.get("in") == where for key, where in expected.items() if key in anchor)


def result_problems(result: object) -> list[str]:
    """What is wrong with a task's `result` by docs/contract.md, Tasks and results (an empty list when nothing is)."""
    problems: list[str] = []

    def check(condition: bool, problem: str) -> None:
        if not condition:
            problems.append(problem)

    def confidence(value: object, where: str) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
        check(ok, f"{where}.confidence {value!r}")

    if not isinstance(result, dict):
        return [f"result is {result!r}"]
    # The first release's keys, and those added since (clients that do not know them ignore them).
    keys = {"verdict", "confidence", "summary", "claims", "attachments", "analyzer"}
    added = {"links", "searches"}
    check(keys <= set(result) <= keys | added, f"result keys {sorted(result)}")
    searches = result.get("searches", 0)
    check(isinstance(searches, int) and not isinstance(searches, bool) and searches >= 0, f"searches {searches!r}")
    links = result.get("links", [])
    check(
        isinstance(links, list)
        and all(
            isinstance(link, dict)
            and {"url", "status", "notes"} <= set(link) <= {"url", "status", "title", "notes"}
            and link["status"] in ("read", "refused", "failed")
            for link in links
        ),
        f"links {links!r}",
    )
    check(result.get("verdict") in VERDICTS, f"verdict {result.get('verdict')!r}")
    confidence(result.get("confidence"), "result")
    check(isinstance(result.get("summary"), str) and bool(result.get("summary")), "summary")
    claims = result.get("claims")
    check(isinstance(claims, list), "claims is not a list")
    for index, claim in enumerate(claims if isinstance(claims, list) else []):
        where = f"claims[{index}]"
        if not isinstance(claim, dict):
            problems.append(f"{where} is {claim!r}")
            continue
        first = {"text", "verdict", "confidence", "explanation", "sources"}
        check(first <= set(claim) <= first | {"anchor"}, f"{where} keys")
        check(_anchor_ok(claim.get("anchor")), f"{where}.anchor {claim.get('anchor')!r}")
        check(isinstance(claim.get("text"), str) and bool(claim.get("text")), f"{where}.text")
        check(claim.get("verdict") in VERDICTS, f"{where}.verdict")
        confidence(claim.get("confidence"), where)
        check(isinstance(claim.get("explanation"), str), f"{where}.explanation")
        sources = claim.get("sources")
        check(
            isinstance(sources, list)
            and all(
                isinstance(s, dict)
                and {"title", "url"} <= set(s) <= {"title", "url", "domain", "quote", "stance"}
                and (s.get("quote") is None or (isinstance(s["quote"], str) and 0 < len(s["quote"]) <= 300))
                and s.get("stance") in (None, "supports", "refutes")
                for s in sources
            ),
            f"{where}.sources",
        )
    reports = result.get("attachments")
    check(isinstance(reports, list), "attachments is not a list")
    for index, report in enumerate(reports if isinstance(reports, list) else []):
        where = f"attachments[{index}]"
        check(
            isinstance(report, dict) and set(report) == {"name", "media_type", "size_bytes", "notes"},
            f"{where} keys",
        )
        if isinstance(report, dict):
            check(isinstance(report.get("size_bytes"), int) and report["size_bytes"] > 0, f"{where}.size_bytes")
            check(isinstance(report.get("notes"), str) and bool(report.get("notes")), f"{where}.notes")
    analyzer = result.get("analyzer")
    check(
        isinstance(analyzer, dict)
        and set(analyzer) == {"name", "model"}
        and isinstance(analyzer.get("name"), str)
        and (analyzer.get("model") is None or isinstance(analyzer.get("model"), str)),
        f"analyzer {analyzer!r}",
    )
    return problems
