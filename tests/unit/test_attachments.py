"""clara.domain.analysis.attachments: what the agent accepts (extensions and caps from settings) and the check of each
upload."""

import pytest

from clara.contract.errors import InvalidSchema
from clara.domain.analysis.attachments import check_upload, size_caps, supported_attachments_view, supported_extensions
from clara.settings import get_settings
from harness import media

KINDS = {
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".gif": "image",
    ".webp": "image",
    ".pdf": "pdf",
    ".mp4": "video",
    ".mov": "video",
    ".mkv": "video",
    ".webm": "video",
    ".mpeg": "video",
    ".mp3": "audio",
    ".wav": "audio",
    ".m4a": "audio",
    ".ogg": "audio",
    ".flac": "audio",
}


@pytest.fixture(autouse=True)
def default_settings(monkeypatch):
    """The defaults of clara.settings, whatever the environment of the test process holds."""
    for name in [
        "SUPPORTED_IMAGE_EXTENSIONS",
        "SUPPORTED_VIDEO_EXTENSIONS",
        "SUPPORTED_AUDIO_EXTENSIONS",
        "SUPPORTED_PDF_EXTENSIONS",
        "MAX_IMAGE_ATTACHMENT_SIZE",
        "MAX_VIDEO_ATTACHMENT_SIZE",
        "MAX_AUDIO_ATTACHMENT_SIZE",
        "MAX_PDF_ATTACHMENT_SIZE",
    ]:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_supported_lists_are_real_extensions_of_each_media_type():
    assert supported_attachments_view() == {
        "image": [".jpeg", ".jpg", ".png", ".gif", ".webp"],
        "video": [".mp4", ".mov", ".mkv", ".webm", ".mpeg"],
        "audio": [".mp3", ".wav", ".m4a", ".ogg", ".flac"],  # audio, not the docs' video list
        "pdf": [".pdf"],
    }


def test_the_lists_and_caps_come_from_configuration(monkeypatch):
    monkeypatch.setenv("SUPPORTED_IMAGE_EXTENSIONS", " .PNG , .gif,,")
    monkeypatch.setenv("MAX_IMAGE_ATTACHMENT_SIZE", "1000")
    get_settings.cache_clear()

    assert supported_extensions()["image"] == [".png", ".gif"]
    assert size_caps()["image"] == 1000
    with pytest.raises(InvalidSchema):
        check_upload("photo.jpg", media.jpeg())  # no longer configured
    with pytest.raises(InvalidSchema):
        check_upload("photo.png", media.png() + b"\x00" * 1000)  # over the new cap


@pytest.mark.parametrize("extension", sorted(media.SAMPLES))
def test_every_supported_type_with_its_real_header_is_accepted(extension):
    content = media.SAMPLES[extension]

    upload = check_upload(f"sample{extension}", content)

    assert (upload.name, upload.extension, upload.kind) == (f"sample{extension}", extension, KINDS[extension])
    assert upload.media_type == media.MEDIA_TYPES[extension]
    assert upload.content == content


def test_the_extension_is_matched_whatever_its_case():
    upload = check_upload("HOLIDAY.PNG", media.png())

    assert (upload.name, upload.extension, upload.media_type) == ("HOLIDAY.PNG", ".png", "image/png")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"just some text pretending to be an image"),
        ("photo.png", media.jpeg()),  # a real image, but not the type its name says
        ("photo.jpg", media.png()),
        ("report.pdf", b"<html><body>not a pdf</body></html>"),
        ("song.wav", media.webp()),  # RIFF, but WEBP not WAVE
        ("picture.webp", media.wav()),  # RIFF, but WAVE not WEBP
        ("picture.webp", b"XXXX\x00\x00\x00\x00WEBPVP8X"),  # WEBP without the RIFF container
        ("clip.mp4", media.mkv()),
        ("clip.mkv", media.mp4()),
        ("song.mp3", b"MZ\x90\x00" + b"\x00" * 60),  # a Windows executable
        ("song.flac", media.ogg()),
    ],
)
def test_a_disguised_file_is_refused(name, content):
    with pytest.raises(InvalidSchema):
        check_upload(name, content)


@pytest.mark.parametrize("extension", [".png", ".pdf", ".wav", ".mp4"])
def test_an_empty_file_is_refused(extension):
    with pytest.raises(InvalidSchema):
        check_upload(f"empty{extension}", b"")


@pytest.mark.parametrize(
    ("extension", "cap"),
    [(".png", 3_750_000), (".mp4", 4_500_000), (".wav", 4_500_000), (".pdf", 4_500_000)],
)
def test_a_file_over_its_type_cap_is_refused_and_one_at_the_cap_accepted(extension, cap):
    sample = media.SAMPLES[extension]
    at_cap = sample + b"\x00" * (cap - len(sample))

    assert check_upload(f"big{extension}", at_cap).content == at_cap
    with pytest.raises(InvalidSchema):
        check_upload(f"big{extension}", at_cap + b"\x00")


def test_the_image_cap_is_smaller_than_the_others():
    caps = size_caps()

    assert caps["image"] == 3_750_000
    assert caps["video"] == caps["audio"] == caps["pdf"] == 4_500_000


@pytest.mark.parametrize(
    "name",
    ["virus.exe", "script.sh", "page.html", "notes.txt", "archive.zip", "photo.png.exe", "photo", "photo."],
)
def test_an_unsupported_or_missing_extension_is_refused(name):
    with pytest.raises(InvalidSchema):
        check_upload(name, media.png())


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        ".png",  # a hidden file without an extension
        "../photo.png",
        "folder/photo.png",
        "..\\photo.png",
        "C:\\Users\\ada\\photo.png",
        "photo\x00.png",
        "photo\n.png",
        "photo\r\n.png",
        "x" * 252 + ".png",  # 256 characters
    ],
)
def test_an_unsafe_name_is_refused(name):
    with pytest.raises(InvalidSchema):
        check_upload(name, media.png())


def test_a_long_but_not_too_long_name_with_spaces_and_accents_is_accepted():
    name = "Photo de l'été " + "x" * 236 + ".png"  # 255 characters

    assert len(name) == 255
    assert check_upload(name, media.png()).name == name
