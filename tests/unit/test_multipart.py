"""clara.http.multipart: the strict multipart/form-data reader behind the analysis upload."""

import pytest

from clara.contract.errors import InvalidSchema
from clara.http.multipart import Part, boundary_of, read_parts
from harness import media

BOUNDARY = "----clara-boundary-7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def section(headers: str, content: bytes) -> bytes:
    return f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n"


def close() -> bytes:
    return f"--{BOUNDARY}--\r\n".encode()


def test_a_well_formed_body_gives_the_text_and_every_file_in_order():
    photo, document = media.png(), media.pdf("The moon is made of cheese.")
    body, content_type = media.multipart(
        [("text", "Is this photo real?")], [("photo.png", photo), ("report.pdf", document)]
    )

    parts = read_parts(body, content_type, max_parts=6)

    assert parts == [
        Part("text", None, b"Is this photo real?"),
        Part("photo.png", "photo.png", photo),
        Part("report.pdf", "report.pdf", document),
    ]


def test_binary_content_with_crlf_and_dashes_inside_comes_back_byte_for_byte():
    tricky = b"\r\n\r\n--\r\n\x00\xff\r\n--" + BOUNDARY[:-1].encode() + b"\r\n" + bytes(range(256))
    body = section('Content-Disposition: form-data; name="blob.png"; filename="blob.png"', tricky) + close()

    [part] = read_parts(body, CONTENT_TYPE, max_parts=6)

    assert part.content == tricky


def test_a_preamble_and_an_epilogue_are_ignored():
    body = b"a preamble to skip\r\n" + section('Content-Disposition: form-data; name="text"', b"hello") + close()
    body += b"an epilogue to skip"

    assert read_parts(body, CONTENT_TYPE, max_parts=6) == [Part("text", None, b"hello")]


def test_an_empty_text_value_is_read_as_empty():
    body = section('Content-Disposition: form-data; name="text"', b"") + close()

    assert read_parts(body, CONTENT_TYPE, max_parts=6) == [Part("text", None, b"")]


def test_the_boundary_may_be_quoted_and_the_media_type_any_case():
    body = section('Content-Disposition: form-data; name="text"', b"hi") + close()

    parts = read_parts(body, f'Multipart/Form-Data; charset=utf-8; boundary="{BOUNDARY}"', max_parts=6)

    assert parts == [Part("text", None, b"hi")]


def test_a_body_without_its_final_delimiter_is_refused():
    truncated = section('Content-Disposition: form-data; name="text"', b"cut off")

    with pytest.raises(InvalidSchema):
        read_parts(truncated, CONTENT_TYPE, max_parts=6)


def test_a_body_cut_inside_a_part_is_refused():
    body, content_type = media.multipart([("text", "hello")], [("photo.png", media.png())])

    with pytest.raises(InvalidSchema):
        read_parts(body[: len(body) // 2], content_type, max_parts=6)


def test_a_body_that_never_uses_the_boundary_is_refused():
    with pytest.raises(InvalidSchema):
        read_parts(b'{"text": "hello"}', CONTENT_TYPE, max_parts=6)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "multipart/form-data",  # no boundary
        "multipart/form-data; boundary=",
        f"multipart/mixed; boundary={BOUNDARY}",
        f"application/json; boundary={BOUNDARY}",
        "multipart/form-data; boundary=" + "b" * 71,  # longer than RFC 2046 allows
    ],
)
def test_a_content_type_without_a_usable_multipart_boundary_is_refused(content_type):
    body = section('Content-Disposition: form-data; name="text"', b"hello") + close()

    with pytest.raises(InvalidSchema):
        read_parts(body, content_type, max_parts=6)


def test_the_longest_boundary_rfc_2046_allows_is_accepted():
    assert boundary_of("multipart/form-data; boundary=" + "b" * 70) == b"b" * 70


@pytest.mark.parametrize(
    "headers",
    [
        'Content-Disposition: attachment; name="text"',  # not form-data
        "Content-Disposition: form-data",  # no name
        'Content-Disposition: form-data; name=""',  # an empty name
        'Content-Type: text/plain; name="text"',  # no Content-Disposition at all
        'Content-Disposition form-data; name="text"',  # not a header line
    ],
)
def test_a_part_without_a_proper_form_data_disposition_is_refused(headers):
    body = section(headers, b"hello") + close()

    with pytest.raises(InvalidSchema):
        read_parts(body, CONTENT_TYPE, max_parts=6)


def test_a_part_without_the_blank_line_after_its_headers_is_refused():
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\nhello\r\n'.encode() + close()

    with pytest.raises(InvalidSchema):
        read_parts(body, CONTENT_TYPE, max_parts=6)


def test_headers_that_are_not_utf8_are_refused():
    body = section('Content-Disposition: form-data; name="text"', b"hello").replace(b"text", b"t\xffxt") + close()

    with pytest.raises(InvalidSchema):
        read_parts(body, CONTENT_TYPE, max_parts=6)


def test_up_to_max_parts_are_read_and_one_more_is_refused():
    files = [(f"photo{index}.png", media.png()) for index in range(5)]
    six, content_type = media.multipart([("text", "hello")], files)
    seven, content_type_of_seven = media.multipart([("text", "hello")], [*files, ("photo5.png", media.png())])

    assert len(read_parts(six, content_type, max_parts=6)) == 6
    with pytest.raises(InvalidSchema):
        read_parts(seven, content_type_of_seven, max_parts=6)


def test_a_non_ascii_file_name_is_read_as_utf8():
    body = section('Content-Disposition: form-data; name="café.png"; filename="café.png"', b"x") + close()

    [part] = read_parts(body, CONTENT_TYPE, max_parts=6)

    assert (part.name, part.filename) == ("café.png", "café.png")
