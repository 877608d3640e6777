"""clara.integrations.analyzers.local: real work without a model — claims from the text and the PDFs, what each
attachment is — and never a verdict it cannot back."""

import io

import pytest
from pypdf import PdfReader

from clara.domain.analysis.ports import AttachmentInput
from clara.domain.analysis.results import AnalysisResult
from clara.integrations.analyzers.local import (
    LocalAnalyzer,
    checkable_claims,
    image_size,
    inspect_attachment,
    media_duration,
)
from clara.settings import get_settings
from harness import media
from harness.fake_bedrock import fake_bedrock


def attachment(name: str, media_type: str, kind: str, content: bytes) -> AttachmentInput:
    return AttachmentInput(
        name=name,
        media_type=media_type,
        kind=kind,  # type: ignore[arg-type]
        size_bytes=len(content),
        s3_uri=f"s3://bucket/user/task/0{name[name.rfind('.') :]}",
        read=lambda: content,
    )


# ------------------------------------------------------------------------------------------- claims


def test_claims_are_the_declarative_sentences_of_four_words_or_more_once_each_in_order():
    text = (
        "The Eiffel Tower is in Berlin. Is that true? Wow! "
        "Water boils at 100 degrees at sea level.\n\nthe eiffel tower is in berlin. "
        "Vaccines were tested on millions of people!"
    )

    assert checkable_claims(text) == [
        "The Eiffel Tower is in Berlin.",
        "Water boils at 100 degrees at sea level.",
        "Vaccines were tested on millions of people!",
    ]


def test_whitespace_inside_a_claim_is_collapsed_and_a_long_claim_is_cut_at_500_characters():
    long_sentence = "word " * 200 + "end."

    claims = checkable_claims("The   moon\tis made of\n cheese.\n\n" + long_sentence)

    assert claims[0] == "The moon is made of cheese."
    assert len(claims[1]) == 500


def test_at_most_25_claims_are_extracted():
    text = " ".join(f"Claim number {index} is here." for index in range(40))

    claims = checkable_claims(text)

    assert len(claims) == 25
    assert claims[-1] == "Claim number 24 is here."


def test_the_result_says_plainly_that_no_model_judged_anything():
    result = LocalAnalyzer().analyze("The Great Wall is visible from space. Who says so?", [])

    assert isinstance(result, AnalysisResult)
    assert result.verdict == "UNVERIFIABLE" and result.confidence == 0
    assert [claim.text for claim in result.claims] == ["The Great Wall is visible from space."]
    assert all(claim.verdict == "UNVERIFIABLE" and claim.confidence == 0 for claim in result.claims)
    assert all(claim.sources == [] for claim in result.claims)
    assert "No model judged these claims" in result.summary
    assert "1 checkable claim(s)" in result.summary
    assert result.analyzer.name == "local" and result.analyzer.model is None
    assert result.attachments == []


def test_a_result_serialises_to_the_schema_of_design_section_3():
    result = LocalAnalyzer().analyze("Mount Everest is the tallest mountain on Earth.", [])

    dumped = result.model_dump(mode="json")

    # The first release's fields, and those added since (links, searches, a claim's anchor), which older clients
    # ignore.
    assert set(dumped) == {"verdict", "confidence", "summary", "claims", "attachments", "analyzer", "links", "searches"}
    assert set(dumped["claims"][0]) == {"text", "verdict", "confidence", "explanation", "sources", "anchor"}
    assert set(dumped["analyzer"]) == {"name", "model"}
    assert (dumped["links"], dumped["searches"]) == ([], 0)


# ------------------------------------------------------------------------------------------- links


def test_links_are_read_by_the_safe_fetcher_and_their_text_checked_with_the_rest(monkeypatch):
    """The real fetcher against a page on loopback (allowed by the tests-only setting), and a link to the instance
    metadata address, which it refuses: both reported, the page's sentences among the claims, no sources."""
    monkeypatch.setenv("FETCH_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    try:
        with fake_bedrock() as site:
            text = f"A post on the tower. See {site.article_url} and http://169.254.169.254/latest/meta-data/ now."
            result = LocalAnalyzer().analyze(text, [])
    finally:
        get_settings.cache_clear()

    assert [(link.url, link.status, link.title) for link in result.links] == [
        (site.article_url, "read", "Tower facts"),
        ("http://169.254.169.254/latest/meta-data/", "refused", None),
    ]
    assert "The Eiffel Tower is 330 metres tall and was completed in 1889 for the World's Fair in Paris." in [
        claim.text for claim in result.claims
    ]
    assert all(claim.sources == [] and claim.verdict == "UNVERIFIABLE" for claim in result.claims)
    assert "read 1 of 2 link(s)" in result.summary
    assert result.searches == 0


def test_a_link_is_shown_without_its_user_name_and_password_and_never_as_a_source():
    """The fetcher reads neither link (no network: both are refused before any connection); the report names them
    without the credentials they carried."""
    text = "Read https://reader:s3cr3t@news.example.org/tower?page=2 and ftp://admin:hunter2@files.example.org/x."

    result = LocalAnalyzer().analyze(text, [])

    assert [(link.url, link.status) for link in result.links] == [
        ("https://news.example.org/tower?page=2", "refused"),
        ("ftp://files.example.org/x", "refused"),
    ]
    assert all(claim.sources == [] for claim in result.claims)


# ------------------------------------------------------------------------------------------- PDFs


def test_the_sample_pdf_is_a_real_pdf_whose_text_pypdf_extracts():
    reader = PdfReader(io.BytesIO(media.pdf("Hello claims.")))

    assert len(reader.pages) == 1
    assert reader.pages[0].extract_text() == "Hello claims."


def test_claims_come_from_the_text_of_a_pdf_too():
    document = attachment("report.pdf", "application/pdf", "pdf", media.pdf("The report says sales doubled in 2024."))

    result = LocalAnalyzer().analyze("Read the attached report.", [document])

    assert [claim.text for claim in result.claims] == [
        "Read the attached report.",
        "The report says sales doubled in 2024.",
    ]
    [report] = result.attachments
    assert (report.name, report.media_type, report.size_bytes) == (
        "report.pdf",
        "application/pdf",
        len(document.read()),
    )
    assert report.notes == "PDF, 1 page(s), 7 words of text."


def test_a_pdf_that_is_only_a_header_is_reported_as_unreadable():
    notes, extracted = inspect_attachment(attachment("broken.pdf", "application/pdf", "pdf", b"%PDF-1.7\ngarbage"))

    assert notes.startswith("PDF that could not be read")
    assert extracted == []


@pytest.mark.parametrize(
    ("label", "damage"),
    [
        # A stream whose /Length points at the stream object itself: pypdf raises LimitReachedError.
        ("self-referencing stream length", (b"<< /Length", b"<< /Length 4 0 R /Was")),
        # A trailer that is a number, not a dictionary: pypdf raises AttributeError.
        ("trailer that is not a dictionary", (b"trailer\n<<", b"trailer\n1<")),
    ],
)
def test_a_damaged_pdf_is_reported_as_unreadable_not_raised(label, damage):
    """A malformed upload must not crash the analyzer: the worker would take that for a transient failure,
    retry it until the last receive and then fail (and refund) the whole task over one bad file."""
    damaged = media.pdf("The sky is green.").replace(*damage)
    document = attachment("damaged.pdf", "application/pdf", "pdf", damaged)

    result = LocalAnalyzer().analyze("Check this document please.", [document])

    assert result.attachments[0].notes.startswith("PDF that could not be read"), label


# ------------------------------------------------------------------------------------------- images


@pytest.mark.parametrize(
    ("content", "size"),
    [
        (media.png(3, 2), (3, 2)),
        (media.png(1920, 1080), (1920, 1080)),
        (media.gif(5, 4), (5, 4)),
        (media.gif(500, 300), (500, 300)),
        (media.jpeg(640, 480), (640, 480)),
        (media.jpeg(4032, 3024), (4032, 3024)),
        (media.webp(800, 600), (800, 600)),
    ],
)
def test_image_dimensions_come_from_the_header(content, size):
    assert image_size(content) == size


def test_an_image_header_that_cannot_be_read_gives_no_dimensions():
    assert image_size(b"\xff\xd8\xff\xe0\x00\x10JFIF") is None  # a JPEG cut before its frame header
    assert image_size(b"\x89PNG\r\n\x1a\n") is None  # a PNG cut before IHDR
    assert image_size(b"not an image at all") is None


def test_an_image_is_described_by_format_and_dimensions():
    result = LocalAnalyzer().analyze("", [attachment("photo.jpg", "image/jpeg", "image", media.jpeg(1024, 768))])

    assert result.attachments[0].notes == "JPEG image, 1024x768 pixels."
    assert result.claims == []


# ------------------------------------------------------------------------------------------- audio and video


def test_the_duration_of_an_mp4_comes_from_its_mvhd_box():
    assert media_duration(media.mp4(duration=12_500, timescale=1000)) == pytest.approx(12.5)
    assert media_duration(media.mov(duration=3000, timescale=600)) == pytest.approx(5.0)


def test_the_duration_of_a_64_bit_mvhd_box_is_read_too():
    long_video = media.mp4(duration=90_000 * 7200, timescale=90_000, version=1)  # two hours

    assert media_duration(long_video) == pytest.approx(7200.0)


def test_the_duration_of_a_wav_comes_from_its_header():
    assert media_duration(media.wav(seconds=1.5, rate=8000)) == pytest.approx(1.5)
    assert media_duration(media.wav(seconds=0.25, rate=44_100)) == pytest.approx(0.25)


def test_containers_without_a_readable_duration_give_none():
    assert media_duration(media.mp3()) is None
    assert media_duration(media.mkv()) is None
    assert media_duration(media.mp4()[:40]) is None  # cut inside the mvhd box


def wav_data_first() -> bytes:
    """A WAV whose `data` chunk comes before its `fmt ` chunk (RIFF allows any order), so a cut lands in `fmt `."""
    valid = media.wav(seconds=0.01)
    fmt, data = valid[12:36], valid[36:]
    return valid[:4] + (4 + len(data) + len(fmt)).to_bytes(4, "little") + b"WAVE" + data + fmt


def test_a_wav_cut_inside_its_fmt_chunk_is_a_note_not_an_exception():
    cut = wav_data_first()[:-6]  # the `fmt ` chunk ends before its byte rate

    notes, _ = inspect_attachment(attachment("speech.wav", "audio/wav", "audio", cut))

    assert media_duration(cut) is None
    assert notes == "Audio file, duration not readable from its container."
    assert media_duration(media.wav()[:30]) is None
    assert media_duration(wav_data_first()) == pytest.approx(0.01)


MEDIA_SAMPLES = [
    media.wav(),
    wav_data_first(),
    media.mp4(),
    media.mp4(version=1),
    media.mov(),
    media.m4a(),
    media.mp3(),
    media.ogg(),
]
IMAGE_SAMPLES = [media.png(), media.gif(), media.jpeg(), media.webp()]


@pytest.mark.parametrize("sample", range(len(MEDIA_SAMPLES)))
def test_the_duration_reader_survives_every_truncation_of_a_valid_file(sample: int):
    content = MEDIA_SAMPLES[sample]
    for length in range(len(content) + 1):
        duration = media_duration(content[:length])  # never an exception, whatever the cut
        assert duration is None or duration >= 0, length


@pytest.mark.parametrize("sample", range(len(IMAGE_SAMPLES)))
def test_the_image_size_reader_survives_every_truncation_of_a_valid_file(sample: int):
    content = IMAGE_SAMPLES[sample]
    for length in range(len(content) + 1):
        size = image_size(content[:length])  # never an exception, whatever the cut
        assert size is None or min(size) >= 0, length


def test_media_files_are_described_by_kind_and_duration():
    result = LocalAnalyzer().analyze(
        "Listen to this recording of the speech.",
        [
            attachment("speech.wav", "audio/wav", "audio", media.wav(seconds=2.0)),
            attachment("clip.mp4", "video/mp4", "video", media.mp4(duration=30_000, timescale=1000)),
            attachment("song.mp3", "audio/mpeg", "audio", media.mp3()),
        ],
    )

    assert [report.notes for report in result.attachments] == [
        "Audio file, 2.0 seconds long.",
        "Video file, 30.0 seconds long.",
        "Audio file, duration not readable from its container.",
    ]
    assert "3 attachment(s)" in result.summary


# ------------------------------------------------------------------------------------------- anchors


def two_page_pdf(first: str, second: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for text in (first, second):
        writer.append(PdfReader(io.BytesIO(media.pdf(text))))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_each_claim_is_anchored_where_it_was_stated_in_the_text_on_a_pdf_page_or_on_a_linked_page(monkeypatch):
    monkeypatch.setenv("FETCH_ALLOW_LOOPBACK", "true")
    get_settings.cache_clear()
    report = attachment(
        "report.pdf", "application/pdf", "pdf", two_page_pdf("Cover of the report.", "Sales doubled in 2024 here.")
    )
    photo = attachment("photo.png", "image/png", "image", media.png())
    try:
        with fake_bedrock() as site:
            text = f"Breaking:  the bridge\nopened in 1932 after years. Read {site.article_url} now."
            result = LocalAnalyzer().analyze(text, [photo, report])
    finally:
        get_settings.cache_clear()

    anchors = {claim.text: claim.anchor for claim in result.claims}
    bridge = anchors["Breaking: the bridge opened in 1932 after years."]
    assert bridge is not None and bridge.model_dump() == {"in": "text", "start": 0, "end": 49}
    assert text[0:49] == "Breaking:  the bridge\nopened in 1932 after years."
    assert anchors["Sales doubled in 2024 here."].model_dump() == {"in": "attachment", "index": 1, "page": 2}
    tower = "The Eiffel Tower is 330 metres tall and was completed in 1889 for the World's Fair in Paris."
    assert anchors[tower].model_dump() == {"in": "link", "url": site.article_url}
