"""A strict multipart/form-data reader for the analysis upload (RFC 7578), over the raw bytes of the body, and the
analysis form it carries."""

import base64
import binascii
from dataclasses import dataclass
from email.message import Message

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from clara.contract.errors import InvalidSchema
from clara.domain.analysis.attachments import Upload, check_upload
from clara.domain.analysis.submission import checked_request
from clara.settings import get_settings


@dataclass(frozen=True)
class Part:
    name: str  # the form field name
    filename: str | None  # present on file parts
    content: bytes


def boundary_of(content_type: str | None) -> bytes:
    header = Message()
    header["content-type"] = content_type or ""
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data":
        raise InvalidSchema.because("Content-Type", f"{header.get_content_type()} is not multipart/form-data")
    if not isinstance(boundary, str) or not boundary or len(boundary) > 70:  # RFC 2046's limit
        raise InvalidSchema.because("Content-Type", "a boundary of 1 to 70 characters is required")
    return boundary.encode("latin-1")


def read_parts(body: bytes, content_type: str | None, *, max_parts: int) -> list[Part]:
    """Every part of the body; 400 Invalid Schema for anything malformed or more than `max_parts` parts."""
    delimiter = b"--" + boundary_of(content_type)
    sections = body.split(delimiter)
    # [preamble, part, part, ..., "--" + epilogue]: the body must close with the final delimiter.
    if len(sections) < 2 or not sections[-1].startswith(b"--"):
        raise InvalidSchema()
    parts: list[Part] = []
    for section in sections[1:-1]:
        if not section.startswith(b"\r\n") or not section.endswith(b"\r\n"):
            raise InvalidSchema()
        head, separator, content = section[2:-2].partition(b"\r\n\r\n")
        if not separator:
            raise InvalidSchema()
        parts.append(_part(head, content))
        if len(parts) > max_parts:
            raise InvalidSchema.because("body", f"more than {max_parts} parts")
    return parts


def _part(head: bytes, content: bytes) -> Part:
    headers = Message()
    try:
        for line in head.decode("utf-8").split("\r\n"):
            key, colon, value = line.partition(":")
            if not colon:
                raise InvalidSchema()
            headers[key.strip()] = value.strip()
    except UnicodeDecodeError as error:
        raise InvalidSchema() from error
    if headers.get_content_disposition() != "form-data":
        raise InvalidSchema()
    name = headers.get_param("name", header="content-disposition")
    filename = headers.get_param("filename", header="content-disposition")
    if not isinstance(name, str) or not name or (filename is not None and not isinstance(filename, str)):
        raise InvalidSchema()
    return Part(name, filename, content)


def read_analysis_form(event: APIGatewayProxyEvent) -> tuple[str, list[Upload]]:
    """The `text` field and the files of a multipart/form-data body; 400 Invalid Schema for anything wrong."""
    settings = get_settings()
    try:
        body = (
            base64.b64decode(event.body or "", validate=True)
            if event.is_base64_encoded
            else (event.body or "").encode()
        )
    except (binascii.Error, ValueError) as error:
        raise InvalidSchema() from error
    text: str | None = None
    uploads: list[Upload] = []
    for part in read_parts(body, event.headers.get("Content-Type"), max_parts=settings.max_attachments + 1):
        if part.filename is None and part.name == "text" and text is None:
            try:
                text = part.content.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InvalidSchema() from error
        elif part.filename is not None:
            uploads.append(check_upload(part.name, part.content))  # the field name is the file name
        else:
            raise InvalidSchema()
    return checked_request(text or "", uploads)
