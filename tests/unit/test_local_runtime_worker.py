"""Which SQS messages the local runtime keeps after an invocation, and the .eml files of the mailbox."""

from datetime import UTC, datetime
from email import message_from_bytes, policy

from local_runtime.mailbox import render_message, render_raw_message
from local_runtime.worker import failed_message_ids

IDS = ["m1", "m2", "m3"]


def test_without_report_batch_item_failures_a_successful_batch_is_all_deleted():
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m1"}]}, IDS, False) == set()


def test_batch_item_failures_keep_only_those_messages():
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, IDS, True) == {"m2"}
    assert failed_message_ids({"batchItemFailures": []}, IDS, True) == set()
    assert failed_message_ids(None, IDS, True) == set()


def test_a_malformed_batch_response_fails_the_whole_batch():
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, IDS, True) == set(IDS)
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "other"}]}, IDS, True) == set(IDS)
    assert failed_message_ids({"batchItemFailures": "m1"}, IDS, True) == set(IDS)


def test_an_html_email_has_text_and_html_alternatives():
    message = {
        "id": "abc",
        "source": "from@example.com",
        "destinations": {"ToAddresses": ["a@example.com", "b@example.com"], "CcAddresses": ["c@example.com"]},
        "subject": "Héllo",
        "body": "<p>Hi <b>there</b></p>",
    }

    email = message_from_bytes(render_message(message, datetime.now(UTC)), policy=policy.default)

    assert (email["From"], email["To"], email["Cc"], email["Subject"]) == (
        "from@example.com",
        "a@example.com, b@example.com",
        "c@example.com",
        "Héllo",
    )
    assert email.get_content_type() == "multipart/alternative"
    assert email.get_body(preferencelist=("plain",)).get_content().strip() == "Hi there"
    assert "<b>there</b>" in email.get_body(preferencelist=("html",)).get_content()


def test_the_text_alternative_keeps_each_links_address():
    message = {
        "id": "l",
        "body": '<p>You can also <a href="https://x.example/a?b=1&amp;c=2">activate it here</a>.</p>'
        '<p>See <a href="https://x.example/">https://x.example/</a> or <a>nothing</a>.</p>',
    }

    email = message_from_bytes(render_message(message, datetime.now(UTC)), policy=policy.default)

    assert email.get_body(preferencelist=("plain",)).get_content() == (
        "You can also activate it here (https://x.example/a?b=1&c=2).\nSee https://x.example/ or nothing.\n"
    )


def test_a_text_email_is_a_single_part_and_raw_mail_is_kept_as_is():
    message = {
        "id": "t",
        "source": "f@example.com",
        "destinations": {"ToAddresses": ["t@example.com"]},
        "subject": "s",
        "body": "Write to <t@example.com> please",
    }
    raw = {"id": "r", "raw_data": "From: f@example.com\r\nSubject: raw\r\n\r\nbody"}

    email = message_from_bytes(render_message(message, datetime.now(UTC)), policy=policy.default)

    assert email.get_content_type() == "text/plain"
    assert render_raw_message(raw) == b"From: f@example.com\r\nSubject: raw\r\n\r\nbody"
