"""Quotes and anchors are the reader's own text: found in what was read, located by this code, never a model's."""

import json

from clara.domain.analysis.results import LinkAnchor, PageAnchor, TextAnchor, TimeAnchor
from clara.integrations.analyzers.anchors import Places, Transcript
from clara.integrations.analyzers.passages import QUOTE_CHARACTERS, best_passage, find, flat, locate

PAGE = """Eiffel Tower

The tower was built by Gustave Eiffel's company for the 1889 World's Fair.
It is 330 metres tall, about the height of an 81-storey building.

Visitors: nearly seven million people climb it every year."""


def test_locate_gives_offsets_into_the_text_exactly_then_ignoring_whitespace_and_case() -> None:
    text = "Hi all!  The MOON is\n  made of   cheese. Really."

    start, end = locate("The MOON is", text) or (0, 0)
    assert text[start:end] == "The MOON is"
    start, end = locate("the moon is made of cheese.", text) or (0, 0)
    assert text[start:end] == "The MOON is\n  made of   cheese."
    assert locate("The moon is made of rock.", text) is None
    assert locate("   ", text) is None


def test_a_passage_is_shown_only_as_the_page_holds_it() -> None:
    assert find("it is 330 METRES tall,   about the height", PAGE) == "It is 330 metres tall, about the height"
    assert find("It is 324 metres tall.", PAGE) is None  # a model's paraphrase: not on the page


def test_the_best_passage_is_the_page_sentence_sharing_most_with_the_claim() -> None:
    quote = best_passage(PAGE, "The Eiffel Tower is 500 metres tall.")

    # Two sentences together name the tower and its height: both are quoted, as the page has them.
    assert quote == (
        "The tower was built by Gustave Eiffel's company for the 1889 World's Fair. "
        "It is 330 metres tall, about the height of an 81-storey building."
    )
    assert quote in flat(PAGE)


def test_no_passage_when_nothing_on_the_page_matches_the_claim() -> None:
    assert best_passage(PAGE, "Bananas are berries but strawberries are not.") is None
    assert best_passage("", "The Eiffel Tower is 500 metres tall.") is None


def test_a_quote_is_at_most_300_characters_of_the_page_cut_at_a_word() -> None:
    long_sentence = "The tower " + "stands tall and proud over the city of Paris " * 20 + "today."

    quote = best_passage(long_sentence, "The tower stands tall over Paris.")

    assert quote is not None and len(quote) <= QUOTE_CHARACTERS
    assert long_sentence.startswith(quote) and long_sentence[len(quote)] == " "


def test_a_claim_is_anchored_in_the_text_a_pdf_page_a_recording_or_a_linked_page() -> None:
    text = "Breaking:   the Eiffel Tower\nis 500 metres tall. Share this!"
    words = ["Paris", "has", "two", "million", "people"]  # 1.0 s apart by 0.5 s, 0.4 s each
    spoken = [("Hello", 0.1), (".", None), *((word, 1 + n * 0.5) for n, word in enumerate(words)), (".", None)]
    items = [
        {"type": "punctuation", "alternatives": [{"content": word}]}
        if start is None
        else {
            "type": "pronunciation",
            "start_time": str(start),
            "end_time": str(start + 0.4),
            "alternatives": [{"content": word}],
        }
        for word, start in spoken
    ]
    written = {"results": {"transcripts": [{"transcript": "Hello. Paris has two million people."}], "items": items}}
    transcript = Transcript.from_transcribe(json.dumps(written))
    places = Places(
        text,
        pdfs={1: lambda: ["Cover page", "Sales doubled in 2024 across Europe."]},
        transcripts={2: transcript},
        links={"https://news.example.org/a": "The bridge opened in 1932 after six years of work."},
    )

    anchor = places.anchor("the Eiffel Tower is 500 metres tall.")
    assert isinstance(anchor, TextAnchor)
    assert text[anchor.start : anchor.end] == "the Eiffel Tower\nis 500 metres tall."
    assert places.anchor("Sales doubled in 2024 across Europe.") == PageAnchor(index=1, page=2)
    assert transcript.text == "Hello. Paris has two million people."
    assert places.anchor("paris has two million people") == TimeAnchor(index=2, start_seconds=1.0, end_seconds=3.4)
    assert places.anchor("The bridge opened in 1932") == LinkAnchor(url="https://news.example.org/a")
    assert places.anchor("The Eiffel Tower is 330 metres tall.") is None
    assert TextAnchor(start=1, end=2).model_dump() == {"in": "text", "start": 1, "end": 2}


def test_only_whole_words_are_found_and_a_passage_of_one_word_is_no_quote() -> None:
    assert "ower was built" in PAGE and locate("ower was built", PAGE) is None  # "tower", cut: not a passage
    assert find("330 metres", PAGE) == "330 metres"
    assert find("metres", PAGE) is None  # too short to be a quote
