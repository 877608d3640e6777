"""`make run` with ANALYZER=bedrock against a stand-in Converse endpoint (AWS_ENDPOINT_URL_BEDROCK_RUNTIME): a
task over HTTP completes with sources that are exactly the URLs the grounded answers cited and the page a link in
the content led to, and none of the URLs the model wrote."""

from collections.abc import Iterator

import pytest

from harness import media
from harness.client import PRIVATE_KEY, RUNTIME_ENV, Api, Mailbox, active_account, bearer, expect, wait_for
from harness.fake_bedrock import FABRICATED, INVENTED_QUOTE, FakeBedrock, fake_bedrock

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def bedrock() -> Iterator[FakeBedrock]:
    with fake_bedrock() as fake:
        yield fake


@pytest.fixture(scope="module")
def runtime_env(bedrock: FakeBedrock) -> dict[str, str]:
    return {
        **RUNTIME_ENV,
        "ANALYZER": "bedrock",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.url,
        "FETCH_ALLOW_LOOPBACK": "true",  # the linked article is on the stand-in's loopback port
        "GROUNDING_CONCURRENCY": "1",  # searches in claim order, so the citations of each claim are known
    }


def test_a_bedrock_task_cites_only_what_was_read(api: Api, mailbox: Mailbox, bedrock: FakeBedrock) -> None:
    account = active_account(api, mailbox, "grounded")
    expect(api.call("PUT", f"/users/{account.id}/credits", auth=PRIVATE_KEY, json={"credits": 100}), 200)
    text = (
        "The Eiffel Tower is 500 metres tall. It was completed in 1889 in Paris. "
        f"Read {bedrock.article_url} and http://169.254.169.254/latest/meta-data/ for more."
    )

    response = api.session.post(  # multipart/form-data with one field, `text`, as a browser form sends it
        f"{api.root}/users/{account.id}/agent/analysis",
        headers={"Authorization": bearer(account.token)},
        files={"text": (None, text)},
        timeout=60,
    )
    created = expect(response, 201, "Analysis task created successfully.")
    task = wait_for(api, account, created["id"], timeout=30)

    assert task["status"] == "COMPLETED", task
    result = task["result"]
    assert media.result_problems(result) == []
    assert result["analyzer"] == {"name": "bedrock", "model": "us.amazon.nova-2-lite-v1:0"}
    assert result["searches"] == 2
    assert [(link["url"], link["status"]) for link in result["links"]] == [
        (bedrock.article_url, "read"),
        ("http://169.254.169.254/latest/meta-data/", "refused"),
    ]
    first, second = result["claims"]
    assert (first["text"], first["verdict"]) == ("The Eiffel Tower is 500 metres tall.", "FALSE")
    for number, claim in enumerate((first, second), start=1):
        assert [source["url"] for source in claim["sources"]] == [
            *(url for url, _ in bedrock.cited_urls(number)),
            bedrock.article_url,
        ]
    assert second["sources"][-1]["title"] == "Tower facts"
    # Checkable at a glance: each claim anchored in the text sent, each source's quote from the page read there.
    assert text[first["anchor"]["start"] : first["anchor"]["end"]] == "The Eiffel Tower is 500 metres tall."
    assert [(source["quote"], source["stance"]) for source in first["sources"]] == [
        ("The Eiffel Tower is 330 metres tall today, including the antennas at its top.", "refutes"),
        (None, "refutes"),  # its page answered 404: cited, so shown, but with nothing to quote
        ("It was the tallest man-made structure in the world until 1930", "supports"),
    ]
    flat = str(result)
    assert INVENTED_QUOTE not in flat  # the model pointed at a passage the page does not hold: never shown
    assert not [url for url in FABRICATED if url in flat]
    assert "[link removed]" in result["summary"] and "[link removed]" in first["explanation"]
    tasks = expect(api.call("GET", f"/users/{account.id}/tasks", auth=bearer(account.token)), 200)
    assert [listed["id"] for listed in tasks] == [created["id"]]
