"""Analysis end to end inside one process: the agent and tasks routes through their real handlers, the worker on
the queue's real messages, AWS emulated by moto (tests/integration/conftest.py).

What a user checks: the task they get back, what they are charged (balance and transactions), that a refused
request costs nothing and leaves nothing behind, and that every task ends COMPLETED or FAILED-and-refunded, once,
however SQS delivers it. Run with -s to see the DynamoDB round trips of one analysis request printed."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from clara.aws import aws_client
from clara.domain.analysis import ports as analysis_ports
from clara.domain.analysis import worker
from clara.domain.analysis.ports import PermanentAnalysisError
from clara.domain.analysis.results import AnalysisResult, AnalyzerInfo
from clara.settings import get_settings
from harness import media
from harness.accounts import API, PRIVATE, PUBLIC, Account, Accounts, bearer, error, item
from harness.inprocess import FUNCTIONS, TEMPLATE, TEST_ENVIRONMENT
from local_runtime.environment import function_environment
from local_runtime.events import LambdaContext, sqs_event

CREATED = "Analysis task created successfully."
SUPPORTED = "Supported attachments fetched successfully."
TASK_FETCHED = "Task fetched successfully."
TASKS_FETCHED = "Tasks fetched successfully."
INVALID = "One or more required parameters are either not given or have invalid schema."
NO_CREDITS = "You do not have enough credits to perform this action."
NO_ACCESS = "You do not have access to the requested resource."
UNAUTHENTICATED = "Authorization header or OTP is either missing, invalid or expired."
INACTIVE = "Please activate your account to access the requested resource."
TASK_NOT_FOUND = "Task with the given identifier does not exist."
USER_NOT_FOUND = "User with the given identifier does not exist."
METHOD_NOT_ALLOWED = "The requested method is not allowed for this route."
WENT_WRONG = "Something went wrong."
COST = 20
WORKER = "AnalysisWorkerFunction"


class Clara:
    """A client's view (the API) and an operator's view (bucket, queue, table) of one emulated stack."""

    def __init__(self, call_api: Any, stack: Any, monkeypatch: pytest.MonkeyPatch):
        self.call_api = call_api
        self.stack = stack
        self.monkeypatch = monkeypatch
        self.accounts = Accounts(call_api, stack)
        self.s3 = stack.session.client("s3")
        self.sqs = stack.session.client("sqs")
        self.bucket = stack.physical_ids["AttachmentsBucket"]
        self.queue_url = stack.physical_ids["AnalysisQueue"]

    # ---------------------------------------------------------------- users and credits

    def user(self, credits: float = 100) -> Account:
        account = self.accounts.active()
        if credits:
            self.set_credits(account, credits)
        return account

    def set_credits(self, account: Account, credits: float) -> None:
        response = self.call_api(
            "PUT",
            f"{API}/users/{account.id}/credits",
            headers={"Authorization": PRIVATE, "Content-Type": "application/json"},
            body=json.dumps({"credits": credits}),
        )
        assert response.status == 200, response.text

    def balance(self, account: Account) -> float:
        response = self.call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})
        assert response.status == 200, response.text
        return response.json["data"]["credits"]

    def transactions(self, account: Account) -> list[dict[str, Any]]:
        response = self.call_api(
            "GET",
            f"{API}/users/{account.id}/transactions",
            headers={"Authorization": account.auth},
            query={"limit": "100"},
        )
        assert response.status == 200, response.text
        return response.json["data"]

    def task_transactions(self, account: Account) -> list[dict[str, Any]]:
        """The user's transactions other than the admin's setting of the balance."""
        return [t for t in self.transactions(account) if not t["description"].startswith("Admin")]

    # ---------------------------------------------------------------- the routes

    def analyse(
        self,
        account: Account,
        text: str | None = "The Eiffel Tower was completed in 1889 in Paris.",
        files: list[tuple[str, bytes]] | None = None,
        *,
        authorization: str | None = None,
        user_id: str | None = None,
    ) -> Any:
        body, content_type = media.multipart([("text", text)] if text is not None else [], files or [])
        return self.post_raw(account, body, content_type, authorization=authorization, user_id=user_id)

    def post_raw(
        self,
        account: Account,
        body: bytes | str | None,
        content_type: str | None,
        *,
        authorization: str | None = None,
        user_id: str | None = None,
    ) -> Any:
        headers = {"Authorization": authorization or account.auth}
        if content_type is not None:
            headers["Content-Type"] = content_type
        return self.call_api("POST", f"{API}/users/{user_id or account.id}/agent/analysis", headers=headers, body=body)

    def submit(self, account: Account, **arguments: Any) -> dict[str, Any]:
        response = self.analyse(account, **arguments)
        assert response.status == 201, response.text
        return response.json["data"]

    def task(self, account: Account, task_id: str) -> dict[str, Any]:
        response = self.call_api(
            "GET", f"{API}/users/{account.id}/tasks/{task_id}", headers={"Authorization": account.auth}
        )
        assert response.status == 200, response.text
        return response.json["data"]

    def tasks(self, account: Account, **query: str) -> Any:
        return self.call_api(
            "GET", f"{API}/users/{account.id}/tasks", headers={"Authorization": account.auth}, query=query or None
        )

    # ---------------------------------------------------------------- bucket, queue, table

    def stored_keys(self) -> list[str]:
        return [obj["Key"] for obj in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]

    def messages_in_queue(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def receive(self) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])

    def stored_task(self, account: Account, task_id: str) -> dict[str, Any]:
        found = item(self.stack, f"USER#{account.id}", f"TASK#{task_id}")
        assert found is not None
        return found

    # ---------------------------------------------------------------- the worker

    def run_worker(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Invoke the worker's lambda_handler with these messages, as the SQS event source would."""
        overrides = dict(TEST_ENVIRONMENT)
        for name, value in function_environment(TEMPLATE, WORKER, self.stack.physical_ids, overrides).items():
            self.monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return FUNCTIONS.handler(WORKER)(sqs_event(messages, queue_arn=queue_arn), LambdaContext(WORKER, 120))

    def redelivered(self, messages: list[dict[str, Any]]) -> set[str]:
        """The ids of the messages SQS hands over again after this invocation: those the worker reports as batch
        item failures, or all of them when the invocation itself fails."""
        try:
            outcome = self.run_worker(messages)
        except BatchProcessingError:
            return {message["MessageId"] for message in messages}
        return {failure["itemIdentifier"] for failure in outcome["batchItemFailures"]}


def delivered(message: dict[str, Any], receive_count: int) -> dict[str, Any]:
    """The same message as SQS hands it over on its `receive_count`-th receive."""
    return {**message, "Attributes": {**message.get("Attributes", {}), "ApproximateReceiveCount": str(receive_count)}}


class CountingAnalyzer:
    """An analyzer that records every call (and the task's status at that moment), then answers or raises."""

    def __init__(self, clara: Clara, outcome: Callable[[str], AnalysisResult]):
        self.clara = clara
        self.outcome = outcome
        self.calls = 0
        self.statuses: list[str] = []
        self.watch: tuple[Account, str] | None = None

    def analyze(self, text: str, attachments: Any) -> AnalysisResult:
        self.calls += 1
        if self.watch:
            self.statuses.append(self.clara.stored_task(*self.watch)["status"])
        return self.outcome(text)


def assert_not_allowed(clara: Clara, account: Account, method: str, path: str) -> None:
    """`method` on /users/{id}/<path>, with the user's token, is 405."""
    response = clara.call_api(method, f"{API}/users/{account.id}/{path}", headers={"Authorization": account.auth})
    assert (response.status, response.json) == (405, error(METHOD_NOT_ALLOWED)), (method, path)


def fixed_result(text: str = "") -> AnalysisResult:
    return AnalysisResult(
        verdict="MOSTLY_TRUE",
        confidence=0.8,
        summary="A fake analyzer's answer.",
        claims=[],
        attachments=[],
        analyzer=AnalyzerInfo(name="fake", model="fake-1"),
    )


def raising(exception: Exception) -> Callable[[str], AnalysisResult]:
    def outcome(text: str) -> AnalysisResult:
        raise exception

    return outcome


def assert_nothing_charged_or_left(clara: Clara, account: Account, balance: float) -> None:
    assert clara.balance(account) == balance
    assert clara.task_transactions(account) == []
    assert clara.stored_keys() == []
    assert clara.messages_in_queue() == 0
    listed = clara.tasks(account)
    assert listed.status == 200 and listed.json["data"] == []


# =========================================================================================== supported attachments

SUPPORTED_LISTS = {
    "image": [".jpeg", ".jpg", ".png", ".gif", ".webp"],
    "video": [".mp4", ".mov", ".mkv", ".webm", ".mpeg"],
    "audio": [".mp3", ".wav", ".m4a", ".ogg", ".flac"],
    "pdf": [".pdf"],
}


def supported(clara: Clara, user_id: str, authorization: str | None) -> Any:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return clara.call_api("GET", f"{API}/users/{user_id}/agent/supported_attachments", headers=headers)


@pytest.mark.parametrize("credential", ["user token", "API key token", "private key"])
def test_supported_attachments_are_listed_by_media_type(clara, credential):
    account = clara.user(credits=0)
    authorization = {
        "user token": account.auth,
        "API key token": bearer(clara.accounts.api_key_token(account)),
        "private key": PRIVATE,
    }[credential]

    response = supported(clara, account.id, authorization)

    assert response.status == 200
    assert response.json == {"data": SUPPORTED_LISTS, "message": SUPPORTED, "status": "success"}


def test_supported_attachments_need_a_credential(clara):
    account = clara.user(credits=0)

    assert supported(clara, account.id, None).json == error(UNAUTHENTICATED)
    assert supported(clara, account.id, "Bearer calzo_user_not-a-token").status == 401


def test_supported_attachments_of_another_user_or_with_the_public_key_are_forbidden(clara):
    ada, grace = clara.user(credits=0), clara.user(credits=0)

    assert supported(clara, grace.id, ada.auth).json == error(NO_ACCESS)
    assert supported(clara, ada.id, PUBLIC).status == 403


def test_supported_attachments_refuse_other_methods(clara):
    account = clara.user(credits=0)

    assert_not_allowed(clara, account, "POST", "agent/supported_attachments")


# =========================================================================================== analysis: accepted


def test_an_analysis_request_becomes_a_paid_pending_task(clara):
    account = clara.user(credits=100)
    photo, document = media.png(), media.pdf("The report says sales doubled.")

    response = clara.analyse(account, "Is this photo real?", [("photo.png", photo), ("report.pdf", document)])

    assert response.status == 201, response.text
    body = response.json
    assert (body["message"], body["status"]) == (CREATED, "success")
    task = body["data"]
    assert set(task) == media.TASK_FIELDS
    assert task["id"].startswith("task_") and len(task["id"]) == len("task_") + 32
    assert (task["user_id"], task["status"], task["result"], task["error"]) == (account.id, "PENDING", None, None)
    assert task["attachments"] == [
        {"name": "photo.png", "media_type": "image/png", "size_bytes": len(photo)},
        {"name": "report.pdf", "media_type": "application/pdf", "size_bytes": len(document)},
    ]
    assert task["created_at"].endswith(" GMT") and task["created_at"] == task["updated_at"]
    assert clara.balance(account) == 100 - COST


def test_a_text_only_and_a_file_only_request_are_both_accepted(clara):
    account = clara.user(credits=100)

    text_only = clara.analyse(account, "The Great Wall of China is visible from space.")
    file_only = clara.analyse(account, None, [("speech.wav", media.wav())])

    assert (text_only.status, file_only.status) == (201, 201), (text_only.text, file_only.text)
    assert text_only.json["data"]["attachments"] == []
    assert [a["name"] for a in file_only.json["data"]["attachments"]] == ["speech.wav"]
    assert clara.balance(account) == 100 - 2 * COST


def test_five_files_of_every_kind_are_accepted(clara):
    account = clara.user(credits=100)
    files = [
        ("a.jpg", media.jpeg()),
        ("b.gif", media.gif()),
        ("c.mp4", media.mp4()),
        ("d.mp3", media.mp3()),
        ("e.pdf", media.pdf()),
    ]

    task = clara.submit(account, files=files)

    assert [(a["name"], a["media_type"]) for a in task["attachments"]] == [
        ("a.jpg", "image/jpeg"),
        ("b.gif", "image/gif"),
        ("c.mp4", "video/mp4"),
        ("d.mp3", "audio/mpeg"),
        ("e.pdf", "application/pdf"),
    ]


@pytest.mark.parametrize("credential", ["API key token", "private key"])
def test_an_api_key_token_and_the_private_key_may_submit_too(clara, credential):
    account = clara.user(credits=100)
    authorization = bearer(clara.accounts.api_key_token(account)) if credential == "API key token" else PRIVATE

    response = clara.analyse(account, authorization=authorization)

    assert response.status == 201, response.text
    assert response.json["data"]["user_id"] == account.id
    assert clara.balance(account) == 100 - COST


def test_the_files_are_stored_byte_for_byte_under_server_made_keys(clara):
    account = clara.user(credits=100)
    tricky = media.png() + b"\r\n--not-the-boundary\r\n\x00\xff" * 50

    task = clara.submit(account, files=[("holiday photo.png", tricky), ("speech.wav", media.wav())])

    keys = sorted(clara.stored_keys())
    assert keys == [f"{account.id}/{task['id']}/0.png", f"{account.id}/{task['id']}/1.wav"]
    stored = clara.s3.get_object(Bucket=clara.bucket, Key=keys[0])
    assert stored["Body"].read() == tricky
    assert stored["ContentType"] == "image/png"


def test_the_queue_holds_one_message_naming_the_task(clara):
    account = clara.user(credits=100)

    task = clara.submit(account)

    assert clara.messages_in_queue() == 1
    [message] = clara.receive()
    assert json.loads(message["Body"]) == {"task_id": task["id"], "user_id": account.id}


EXECUTE_API = "abc123.execute-api.us-east-1.amazonaws.com"


@pytest.mark.parametrize(
    ("base_path", "headers", "base"),
    [
        (None, {"Host": EXECUTE_API}, f"https://{EXECUTE_API}/prod"),
        ("", {"Host": "api.clara.example"}, "https://api.clara.example"),
        ("/clara", {"Host": "api.clara.example"}, "https://api.clara.example/clara"),
        ("", {"Host": "127.0.0.1:3000", "X-Forwarded-Proto": "http"}, "http://127.0.0.1:3000"),
    ],
    ids=["execute-api endpoint", "custom domain at its root", "custom domain under a base path", "make run"],
)
def test_the_201_locates_the_task_under_the_url_the_request_used(clara, base_path, headers, base):
    account = clara.user(credits=100)
    body, content_type = media.multipart([("text", "The Moon is made of rock.")])

    response = clara.call_api(
        "POST",
        f"{API}/users/{account.id}/agent/analysis",
        headers={"Authorization": account.auth, "Content-Type": content_type, **headers},
        body=body,
        base_path=base_path,
    )

    assert response.status == 201, response.text
    task_id = response.json["data"]["id"]
    assert response.headers["Location"] == f"{base}{API}/users/{account.id}/tasks/{task_id}"
    fetched = clara.call_api(
        "GET", response.headers["Location"].removeprefix(base), headers={"Authorization": account.auth}
    )
    assert fetched.status == 200 and fetched.json["data"] == response.json["data"]


def test_a_refused_analysis_has_no_location(clara):
    account = clara.user(credits=0)

    response = clara.analyse(account)

    assert response.status == 403
    assert "Location" not in response.headers


# =========================================================================================== analysis: refused


def six_files() -> list[tuple[str, bytes]]:
    return [(f"photo{index}.png", media.png()) for index in range(6)]


def boundary_body(content: bytes) -> tuple[bytes, str]:
    return content, "multipart/form-data; boundary=b0undary"


REFUSED_BODIES: dict[str, Callable[[], tuple[bytes | str | None, str | None]]] = {
    "six files and text": lambda: media.multipart([("text", "Six is too many.")], six_files()),
    "six files without text": lambda: media.multipart([], six_files()),
    "text bytes named .png": lambda: media.multipart([("text", "hi")], [("photo.png", b"I am plain text, honest.")]),
    "a JPEG named .pdf": lambda: media.multipart([("text", "hi")], [("report.pdf", media.jpeg())]),
    "an image over the 3.75 MB cap": lambda: media.multipart(
        [("text", "hi")], [("big.png", media.png() + b"\x00" * (3_750_001 - len(media.png())))]
    ),
    "an .exe": lambda: media.multipart([("text", "hi")], [("setup.exe", b"MZ\x90\x00" + b"\x00" * 200)]),
    "a file without an extension": lambda: media.multipart([("text", "hi")], [("photo", media.png())]),
    "an empty file": lambda: media.multipart([("text", "hi")], [("empty.png", b"")]),
    "a path as the file name": lambda: media.multipart([("text", "hi")], [("../../photo.png", media.png())]),
    "duplicate file names": lambda: media.multipart(
        [("text", "hi")], [("photo.png", media.png()), ("photo.png", media.png(4, 4))]
    ),
    "no body at all": lambda: (None, "multipart/form-data; boundary=b0undary"),
    "no parts": lambda: boundary_body(b"--b0undary--\r\n"),
    "no text and no file": lambda: media.multipart([], []),
    "only whitespace as text": lambda: media.multipart([("text", " \r\n\t ")], []),
    "text twice": lambda: media.multipart([("text", "one"), ("text", "two")], []),
    "an unknown field": lambda: media.multipart([("prompt", "Is the moon made of cheese?")], []),
    "text that is not UTF-8": lambda: media.multipart([("text", b"caf\xe9 au lait")], []),
    "text over 20,000 characters": lambda: media.multipart([("text", "word " * 4001)], []),
    "a missing final delimiter": lambda: boundary_body(
        b'--b0undary\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n'
    ),
    "a part without Content-Disposition": lambda: boundary_body(
        b"--b0undary\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b0undary--\r\n"
    ),
    "a multipart type without a boundary": lambda: (
        media.multipart([("text", "hello")], [])[0],
        "multipart/form-data",
    ),
    "a boundary the body does not use": lambda: (
        media.multipart([("text", "hello")], [])[0],
        "multipart/form-data; boundary=something-else",
    ),
    "JSON instead of a form": lambda: (json.dumps({"text": "hello"}), "application/json"),
    "a urlencoded form": lambda: ("text=hello", "application/x-www-form-urlencoded"),
    "no content type": lambda: (media.multipart([("text", "hello")], [])[0], None),
}


@pytest.mark.parametrize("case", list(REFUSED_BODIES))
def test_a_bad_request_is_refused_with_400_and_costs_nothing(clara, case):
    account = clara.user(credits=100)
    body, content_type = REFUSED_BODIES[case]()

    response = clara.post_raw(account, body, content_type)

    assert (response.status, response.json) == (400, error(INVALID)), case
    assert_nothing_charged_or_left(clara, account, 100)


# Characters that reorder or hide what a file name shows (U+202E makes "invoice\u202egnp.exe" show as
# "invoiceexe.png"), and other controls and invisible format characters.
HIDDEN_IN_NAMES = [
    *map(chr, range(0x202A, 0x202F)),  # bidi embeddings and overrides, U+202E the right-to-left override
    *map(chr, range(0x2066, 0x206A)),  # bidi isolates
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u061c",  # Arabic letter mark
    "\x7f",  # DEL
    "\x85",  # a C1 control (next line)
    "\u00ad",  # soft hyphen
    "\u200b",  # zero width space
    "\ufeff",  # zero width no-break space
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
]


def test_a_file_name_with_a_bidi_control_or_an_invisible_character_is_refused_and_costs_nothing(clara):
    account = clara.user(credits=100)

    answers = {
        f"U+{ord(char):04X}": clara.analyse(account, files=[(f"invoice{char}gnp.exe.png", media.png())])
        for char in HIDDEN_IN_NAMES
    }

    assert {
        code: (r.status, r.json) for code, r in answers.items() if (r.status, r.json) != (400, error(INVALID))
    } == {}
    assert_nothing_charged_or_left(clara, account, 100)


def test_file_names_in_any_script_are_stored_and_echoed_as_sent(clara):
    account = clara.user(credits=100)
    names = [
        "Photo de l\u2019\u00e9t\u00e9 \u00e0 S\u00e3o Paulo.png",
        "\u5831\u544a\u66f8 2024\u5e74.pdf",  # Japanese
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.png",  # Persian, spelled with a zero width non-joiner
        "\u0939\u093f\u0928\u094d\u0926\u0940.png",  # Hindi
        "\U0001f469\u200d\U0001f4bb notes.png",  # an emoji sequence joined by a zero width joiner
    ]
    files = [(name, media.pdf() if name.endswith(".pdf") else media.png()) for name in names]

    created = clara.submit(account, files=files)

    assert [a["name"] for a in created["attachments"]] == names
    assert [a["name"] for a in clara.task(account, created["id"])["attachments"]] == names


def test_below_the_cost_the_request_is_refused_with_403_and_costs_nothing(clara):
    account = clara.user(credits=COST - 1)

    response = clara.analyse(account, files=[("photo.png", media.png())])

    assert (response.status, response.json) == (403, error(NO_CREDITS))
    assert_nothing_charged_or_left(clara, account, COST - 1)


def test_exactly_the_cost_is_enough_and_leaves_zero(clara):
    account = clara.user(credits=COST)

    first = clara.analyse(account)
    second = clara.analyse(account)

    assert first.status == 201, first.text
    assert (second.status, second.json) == (403, error(NO_CREDITS))
    assert clara.balance(account) == 0


def test_analysis_needs_a_credential(clara):
    account = clara.user(credits=100)

    unauthenticated = clara.analyse(account, authorization="Bearer calzo_user_forged")
    public = clara.analyse(account, authorization=PUBLIC)

    assert (unauthenticated.status, unauthenticated.json) == (401, error(UNAUTHENTICATED))
    assert (public.status, public.json) == (403, error(NO_ACCESS))
    assert_nothing_charged_or_left(clara, account, 100)


def test_an_inactive_user_may_not_submit(clara):
    account = clara.accounts.register()  # never activated

    response = clara.analyse(account)

    assert (response.status, response.json) == (401, error(INACTIVE))


def test_nobody_may_submit_on_another_users_account(clara):
    ada, grace = clara.user(credits=100), clara.user(credits=100)

    response = clara.analyse(ada, user_id=grace.id)

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert clara.balance(ada) == clara.balance(grace) == 100


def test_the_private_key_on_an_unknown_user_is_404(clara):
    account = clara.user(credits=100)

    response = clara.analyse(account, authorization=PRIVATE, user_id="user_00000000000000000000000000000000")

    assert (response.status, response.json) == (404, error(USER_NOT_FOUND))


def test_analysis_refuses_other_methods(clara):
    account = clara.user(credits=100)

    assert_not_allowed(clara, account, "GET", "agent/analysis")


# =========================================================================================== tasks routes


def test_tasks_are_listed_newest_first_and_paged(clara):
    account = clara.user(credits=100)
    ids = [clara.submit(account, text=f"Claim number {index} is made here.")["id"] for index in range(3)]

    everything = clara.tasks(account)
    second_page = clara.tasks(account, limit="1", offset="1")

    assert everything.status == 200
    assert (everything.json["message"], everything.json["status"]) == (TASKS_FETCHED, "success")
    assert [task["id"] for task in everything.json["data"]] == ids[::-1]
    assert all(set(task) == media.TASK_FIELDS for task in everything.json["data"])
    assert [task["id"] for task in second_page.json["data"]] == [ids[1]]


def test_no_tasks_is_an_empty_list(clara):
    account = clara.user(credits=0)

    response = clara.tasks(account)

    assert response.status == 200 and response.json == {"data": [], "message": TASKS_FETCHED, "status": "success"}


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"offset": "-1"}, {"limit": "ten"}])
def test_a_bad_page_is_400(clara, query):
    account = clara.user(credits=0)

    response = clara.tasks(account, **query)

    assert (response.status, response.json) == (400, error(INVALID))


def test_one_task_is_fetched_with_the_same_view(clara):
    account = clara.user(credits=100)
    created = clara.submit(account, files=[("photo.png", media.png())])

    response = clara.call_api(
        "GET", f"{API}/users/{account.id}/tasks/{created['id']}", headers={"Authorization": account.auth}
    )

    assert response.status == 200
    assert response.json == {"data": created, "message": TASK_FETCHED, "status": "success"}


def test_tasks_may_be_read_with_an_api_key_token_and_the_private_key(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)
    api_key = bearer(clara.accounts.api_key_token(account))

    for authorization in (api_key, PRIVATE):
        listed = clara.call_api("GET", f"{API}/users/{account.id}/tasks", headers={"Authorization": authorization})
        one = clara.call_api(
            "GET", f"{API}/users/{account.id}/tasks/{created['id']}", headers={"Authorization": authorization}
        )
        assert [task["id"] for task in listed.json["data"]] == [created["id"]]
        assert one.json["data"] == created


def test_another_users_task_does_not_exist_for_you(clara):
    ada, grace = clara.user(credits=100), clara.user(credits=100)
    graces = clara.submit(grace)

    response = clara.call_api("GET", f"{API}/users/{ada.id}/tasks/{graces['id']}", headers={"Authorization": ada.auth})
    unknown = clara.call_api(
        "GET", f"{API}/users/{ada.id}/tasks/task_00000000000000000000000000000000", headers={"Authorization": ada.auth}
    )

    assert (response.status, response.json) == (404, error(TASK_NOT_FOUND))
    assert (unknown.status, unknown.json) == (404, error(TASK_NOT_FOUND))
    assert clara.tasks(ada).json["data"] == []


def test_another_users_tasks_are_forbidden(clara):
    ada, grace = clara.user(credits=100), clara.user(credits=100)
    graces = clara.submit(grace)

    listed = clara.call_api("GET", f"{API}/users/{grace.id}/tasks", headers={"Authorization": ada.auth})
    one = clara.call_api("GET", f"{API}/users/{grace.id}/tasks/{graces['id']}", headers={"Authorization": ada.auth})

    assert (listed.status, listed.json) == (403, error(NO_ACCESS))
    assert (one.status, one.json) == (403, error(NO_ACCESS))


def test_tasks_need_a_credential_and_an_active_user(clara):
    account = clara.user(credits=0)
    inactive = clara.accounts.register()

    anonymous = clara.call_api("GET", f"{API}/users/{account.id}/tasks")
    public = clara.call_api("GET", f"{API}/users/{account.id}/tasks", headers={"Authorization": PUBLIC})
    not_active = clara.call_api("GET", f"{API}/users/{inactive.id}/tasks", headers={"Authorization": inactive.auth})
    one = clara.call_api("GET", f"{API}/users/{account.id}/tasks/task_00000000000000000000000000000000")

    assert (anonymous.status, anonymous.json) == (401, error(UNAUTHENTICATED))
    assert (public.status, public.json) == (403, error(NO_ACCESS))
    assert (not_active.status, not_active.json) == (401, error(INACTIVE))
    assert (one.status, one.json) == (401, error(UNAUTHENTICATED))


def test_tasks_refuse_other_methods(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)

    for path in ("tasks", f"tasks/{created['id']}"):
        assert_not_allowed(clara, account, "DELETE", path)
    assert clara.task(account, created["id"]) == created


# =========================================================================================== the worker


def test_the_whole_path_submit_queue_worker_completed(clara):
    account = clara.user(credits=100)
    document = media.pdf("The report says sales doubled in 2024.")
    files = [("photo.png", media.png(64, 48)), ("report.pdf", document), ("speech.wav", media.wav(seconds=2.0))]
    created = clara.submit(account, text="Our sales doubled last year. Is that right?", files=files)

    messages = clara.receive()
    assert [json.loads(m["Body"])["task_id"] for m in messages] == [created["id"]]
    outcome = clara.run_worker(messages)

    assert outcome == {"batchItemFailures": []}
    task = clara.task(account, created["id"])
    assert task["status"] == "COMPLETED" and task["error"] is None
    assert media.result_problems(task["result"]) == []
    result = task["result"]
    assert result["analyzer"] == {"name": "local", "model": None}
    assert result["verdict"] == "UNVERIFIABLE" and result["confidence"] == 0
    assert "No model judged these claims" in result["summary"]
    assert [claim["text"] for claim in result["claims"]] == [
        "Our sales doubled last year.",
        "The report says sales doubled in 2024.",
    ]
    assert all(claim["verdict"] == "UNVERIFIABLE" for claim in result["claims"])
    assert [(a["name"], a["media_type"], a["size_bytes"], a["notes"]) for a in result["attachments"]] == [
        ("photo.png", "image/png", len(files[0][1]), "PNG image, 64x48 pixels."),
        ("report.pdf", "application/pdf", len(document), "PDF, 1 page(s), 7 words of text."),
        ("speech.wav", "audio/wav", len(files[2][1]), "Audio file, 2.0 seconds long."),
    ]
    assert task["attachments"] == created["attachments"]
    assert clara.balance(account) == 100 - COST
    [debit] = clara.task_transactions(account)
    assert (debit["type"], debit["value_in_credits"]) == ("DEBIT", COST)
    assert created["id"] in debit["description"]


def test_the_task_is_processing_while_the_analyzer_runs(clara, fake_analyzer):
    account = clara.user(credits=100)
    created = clara.submit(account)
    analyzer = fake_analyzer()
    analyzer.watch = (account, created["id"])

    clara.run_worker(clara.receive())

    assert analyzer.statuses == ["PROCESSING"]
    task = clara.task(account, created["id"])
    assert task["status"] == "COMPLETED"
    assert task["result"]["analyzer"] == {"name": "fake", "model": "fake-1"}


def test_a_message_delivered_twice_runs_the_task_once(clara, fake_analyzer):
    account = clara.user(credits=100)
    created = clara.submit(account)
    analyzer = fake_analyzer()
    [message] = clara.receive()

    first = clara.run_worker([delivered(message, 1)])
    after_first = clara.stored_task(account, created["id"])
    second = clara.run_worker([delivered(message, 2)])
    after_second = clara.stored_task(account, created["id"])

    assert first == second == {"batchItemFailures": []}
    assert analyzer.calls == 1
    assert after_first["status"] == "COMPLETED"
    assert (after_second["result_json"], after_second["updated_at"]) == (
        after_first["result_json"],
        after_first["updated_at"],
    )
    assert clara.balance(account) == 100 - COST
    assert [t["type"] for t in clara.task_transactions(account)] == ["DEBIT"]


def test_a_duplicate_delivered_while_the_task_runs_does_not_run_it_again(clara, fake_analyzer):
    account = clara.user(credits=100)
    clara.submit(account)
    [message] = clara.receive()
    busy: list[BaseException] = []

    def meanwhile_the_same_message_arrives(text: str) -> AnalysisResult:
        try:
            worker.process_message(message["Body"], 1)
        except Exception as raised:
            busy.append(raised)
        return fixed_result()

    analyzer = fake_analyzer(meanwhile_the_same_message_arrives)

    outcome = clara.run_worker([delivered(message, 1)])

    assert outcome == {"batchItemFailures": []}
    assert analyzer.calls == 1  # the duplicate did not analyse
    assert [type(raised).__name__ for raised in busy] == ["TaskBusy"]  # ... and asked SQS to retry it later


def test_a_transient_failure_is_retried_and_fails_and_refunds_on_the_last_receive(clara, fake_analyzer):
    account = clara.user(credits=100)
    created = clara.submit(account)
    analyzer = fake_analyzer(raising(ConnectionError("the model endpoint timed out")))
    [message] = clara.receive()

    for receive_count in range(1, 5):
        assert clara.redelivered([delivered(message, receive_count)]) == {message["MessageId"]}, receive_count
        task = clara.task(account, created["id"])
        assert task["status"] in ("PENDING", "PROCESSING"), receive_count
        assert task["result"] is None
        assert clara.balance(account) == 100 - COST

    last = clara.run_worker([delivered(message, 5)])
    again = clara.run_worker([delivered(message, 5)])

    assert last == again == {"batchItemFailures": []}
    assert analyzer.calls == 5
    task = clara.task(account, created["id"])
    assert task["status"] == "FAILED" and task["result"] is None
    assert isinstance(task["error"], str) and "refunded" in task["error"]
    assert clara.balance(account) == 100
    history = clara.task_transactions(account)
    assert sorted((t["type"], t["value_in_credits"]) for t in history) == [("CREDIT", COST), ("DEBIT", COST)]
    assert all(created["id"] in t["description"] for t in history)


def throttled() -> ClientError:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Too many requests"}}, "Converse")


def test_throttling_backs_off_by_visibility_then_the_last_receive_refunds_once(clara, fake_analyzer):
    """Each throttled try hides its message for 30, 60, 120, 240 s (ChangeMessageVisibility on the real queue)
    instead of the whole visibility timeout; the fifth fails the task and refunds it, once."""
    account = clara.user(credits=100)
    created = clara.submit(account)
    analyzer = fake_analyzer(raising(throttled()))
    delays: list[int] = []
    sqs = aws_client("sqs")  # the client the task queue's adapter uses
    hook = lambda params, **_: delays.append(params["VisibilityTimeout"])  # noqa: E731
    sqs.meta.events.register("provide-client-params.sqs.ChangeMessageVisibility", hook)
    try:
        for receive_count in range(1, 5):
            [message] = clara.sqs.receive_message(
                QueueUrl=clara.queue_url, AttributeNames=["All"], VisibilityTimeout=0
            )["Messages"]
            assert clara.redelivered([delivered(message, receive_count)]) == {message["MessageId"]}
            assert clara.receive() == []  # hidden for its delay, not visible again at once
            clara.sqs.change_message_visibility(  # the test's clock: the delay has passed
                QueueUrl=clara.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        [message] = clara.receive()
        assert clara.run_worker([delivered(message, 5)]) == {"batchItemFailures": []}
        assert clara.run_worker([delivered(message, 5)]) == {"batchItemFailures": []}  # a duplicate last delivery
    finally:
        sqs.meta.events.unregister("provide-client-params.sqs.ChangeMessageVisibility", hook)

    assert delays == [30, 60, 120, 240]
    assert analyzer.calls == 5
    task = clara.task(account, created["id"])
    assert task["status"] == "FAILED" and "refunded" in task["error"]
    assert clara.balance(account) == 100
    assert sorted(t["type"] for t in clara.task_transactions(account)) == ["CREDIT", "DEBIT"]


def test_the_retry_delay_doubles_up_to_its_cap(monkeypatch):
    monkeypatch.setenv("ANALYSIS_RETRY_BASE_SECONDS", "30")
    monkeypatch.setenv("ANALYSIS_RETRY_MAX_SECONDS", "200")
    get_settings.cache_clear()
    try:
        assert [worker.retry_delay(count) for count in (1, 2, 3, 4, 5, 40)] == [30, 60, 120, 200, 200, 200]
    finally:
        get_settings.cache_clear()


def test_a_permanent_failure_fails_and_refunds_at_once(clara, fake_analyzer):
    account = clara.user(credits=100)
    created = clara.submit(account)
    analyzer = fake_analyzer(raising(PermanentAnalysisError("the video could not be decoded")))

    outcome = clara.run_worker([delivered(m, 1) for m in clara.receive()])

    assert outcome == {"batchItemFailures": []}
    assert analyzer.calls == 1
    task = clara.task(account, created["id"])
    assert task["status"] == "FAILED"
    assert "the video could not be decoded" in task["error"]
    assert clara.balance(account) == 100
    assert sorted(t["type"] for t in clara.task_transactions(account)) == ["CREDIT", "DEBIT"]


def test_only_the_failing_message_of_a_batch_comes_back(clara, fake_analyzer):
    account = clara.user(credits=100)
    good = clara.submit(account, text="This claim analyses fine.")
    bad = clara.submit(account, text="This claim meets a THROTTLED model.")

    def throttled_for_bad(text: str) -> AnalysisResult:
        if "THROTTLED" in text:
            raise ConnectionError("throttled")
        return fixed_result()

    fake_analyzer(throttled_for_bad)
    messages = [delivered(message, 1) for message in clara.receive()]
    bad_message = next(m for m in messages if json.loads(m["Body"])["task_id"] == bad["id"])

    outcome = clara.run_worker(messages)

    assert outcome == {"batchItemFailures": [{"itemIdentifier": bad_message["MessageId"]}]}
    assert clara.task(account, good["id"])["status"] == "COMPLETED"
    assert clara.task(account, bad["id"])["status"] in ("PENDING", "PROCESSING")


def test_a_lone_message_that_fails_transiently_is_reported_as_a_batch_item_failure(clara, fake_analyzer):
    """The worker's contract (functions/analysis_worker/app.py): a transient failure is a batch item failure, not
    a failed invocation (which counts as a Lambda error and logs an ERROR for every routine retry)."""
    clara.submit(clara.user(credits=100))
    fake_analyzer(raising(ConnectionError("the model endpoint timed out")))
    [message] = clara.receive()

    outcome = clara.run_worker([delivered(message, 1)])

    assert outcome == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}


def test_a_malformed_or_orphaned_message_is_dropped_without_a_retry(clara, fake_analyzer):
    account = clara.user(credits=100)
    analyzer = fake_analyzer()
    for body in ("not json", json.dumps({"task_id": "task_x"}), json.dumps({"task_id": "t", "user_id": account.id})):
        clara.sqs.send_message(QueueUrl=clara.queue_url, MessageBody=body)

    outcome = clara.run_worker([delivered(m, 1) for m in clara.receive()])

    assert outcome == {"batchItemFailures": []}
    assert analyzer.calls == 0
    assert clara.balance(account) == 100


class FailingQueue:
    def send(self, body: str) -> None:
        raise ConnectionError("SQS is unreachable")


def test_a_task_that_cannot_be_queued_is_failed_and_refunded(clara, monkeypatch):
    account = clara.user(credits=100)
    monkeypatch.setattr(analysis_ports.task_queue, "substitute", FailingQueue)

    response = clara.analyse(account, files=[("photo.png", media.png())])

    assert (response.status, response.json) == (500, error(WENT_WRONG))
    [task] = clara.tasks(account).json["data"]
    assert task["status"] == "FAILED" and task["result"] is None
    assert isinstance(task["error"], str) and task["error"]
    assert clara.balance(account) == 100
    history = clara.task_transactions(account)
    assert sorted((t["type"], t["value_in_credits"]) for t in history) == [("CREDIT", COST), ("DEBIT", COST)]
    assert all(task["id"] in t["description"] for t in history)


# =========================================================================================== round trips


class DynamoCalls:
    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)


def test_round_trips_of_one_analysis_request(clara, dynamodb_calls):
    account = clara.user(credits=100)
    dynamodb_calls.names.clear()

    response = clara.analyse(account, files=[("photo.png", media.png())])

    names = list(dynamodb_calls.names)
    print(f"\nDynamoDB round trips, POST /agent/analysis (user token, 1 file): {len(names)} {names}")
    assert response.status == 201
    assert names.count("TransactWriteItems") == 1  # the debit and the task: one ledger transaction
    assert len(names) <= 3, names  # an authenticated request (2 at most) plus that transaction
