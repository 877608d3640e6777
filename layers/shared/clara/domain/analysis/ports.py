"""What analysis needs from outside, plugged in where a function is assembled (clara.domain.ports): the analyzer
(Amazon Bedrock, or the local one: clara.integrations.analyzers), where attachments are kept (S3) and the task queue
(SQS) (clara.integrations.s3_attachments, clara.integrations.sqs_queues)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from clara.domain.ports import Port

if TYPE_CHECKING:  # the result schema's pydantic models are built by the functions that run or show a task only
    from clara.domain.analysis.attachments import MediaKind
    from clara.domain.analysis.results import AnalysisResult


@dataclass
class Usage:
    """What an analyzer spent on its last analyze(): model calls, of them grounded (web search) calls, tokens, and
    the time it waited for cited pages."""

    model_calls: int = 0
    grounded_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reading_seconds: float = 0.0  # waited for cited pages after the verdict call: what quotes add to a task


@dataclass(frozen=True)
class AttachmentInput:
    """One stored attachment as an analyzer sees it; `read` fetches the bytes only if the analyzer needs them."""

    name: str
    media_type: str
    kind: "MediaKind"
    size_bytes: int
    s3_uri: str
    read: Callable[[], bytes]


class PermanentAnalysisError(Exception):
    """Retrying cannot fix this (the input itself is the problem): the task fails at once and is refunded."""


class Analyzer(Protocol):
    usage: Usage  # of the last analyze() call; zero for the local analyzer

    def analyze(self, text: str, attachments: Sequence[AttachmentInput]) -> "AnalysisResult": ...


class Attachments(Protocol):
    """The task's files, kept under server-made keys (`<user id>/<task id>/<index><extension>`)."""

    def put(self, key: str, content: bytes, media_type: str) -> None: ...

    def read(self, key: str) -> bytes: ...

    def uri(self, key: str) -> str: ...

    def delete(self, keys: list[str]) -> None: ...

    def delete_under(self, prefix: str) -> None: ...


class TaskQueue(Protocol):
    """The queue the worker reads: one message per task to run."""

    def send(self, body: str) -> None: ...

    def retry_after(self, receipt_handle: str, seconds: int) -> None: ...


analyzer: Port[Analyzer] = Port("analyzer")
attachments: Port[Attachments] = Port("attachments")
task_queue: Port[TaskQueue] = Port("task queue")
