"""Audio attachments as Amazon Transcribe transcripts, for the Bedrock analyzer: every job started before any is
awaited (so several files transcribe side by side), polled within TRANSCRIBE_WAIT_SECONDS, the transcript read from
S3. A job's name is derived from the file's key, so a retried task finds the job it started."""

import json
import re
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from botocore.exceptions import ClientError

from clara.domain.analysis.ports import AttachmentInput, PermanentAnalysisError
from clara.integrations.analyzers.anchors import Transcript
from clara.observability import logger

TRANSCRIBE_WAIT_SECONDS = 60  # counted inside the analysis budget
TRANSCRIBE_POLL_SECONDS = 3
# Transcribe's MediaFormat by extension; an .m4a file is an MPEG-4 container.
AUDIO_FORMATS = {".mp3": "mp3", ".wav": "wav", ".m4a": "mp4", ".ogg": "ogg", ".flac": "flac"}

_JOB_NAME_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")


class TranscriptionPending(Exception):
    """Transcribe is still working: transient, the retried task polls the same job again."""


def transcripts(
    transcribe: Any, s3: Any, audio: list[AttachmentInput], clock: Callable[[float], None]
) -> dict[str, Transcript]:
    """The transcript of each audio attachment, by its S3 URI."""
    jobs = {attachment.s3_uri: _start(transcribe, attachment) for attachment in audio}
    return _await(transcribe, s3, jobs, clock)


def _start(transcribe: Any, attachment: AttachmentInput) -> str:
    bucket, key = _split_s3_uri(attachment.s3_uri)
    media_format = AUDIO_FORMATS.get(PurePosixPath(key).suffix.lower())
    if media_format is None:
        raise PermanentAnalysisError(f"{attachment.name} is not an audio format Amazon Transcribe reads.")
    job = transcription_job_name(key)
    try:
        transcribe.start_transcription_job(
            TranscriptionJobName=job,
            Media={"MediaFileUri": attachment.s3_uri},
            MediaFormat=media_format,
            IdentifyLanguage=True,
            OutputBucketName=bucket,
            OutputKey=_transcript_key(job),
        )
    except ClientError as error:
        # A retried task started this job already (the name is derived from the key): just await it.
        if error.response.get("Error", {}).get("Code") != "ConflictException":
            raise
    return job


def _await(transcribe: Any, s3: Any, jobs: dict[str, str], clock: Callable[[float], None]) -> dict[str, Transcript]:
    """The transcript of each S3 URI's job, polling them all within one shared deadline."""
    transcripts: dict[str, Transcript] = {}
    waited = 0.0
    pending = dict(jobs)
    while pending:
        for uri, job in list(pending.items()):
            details = transcribe.get_transcription_job(TranscriptionJobName=job)["TranscriptionJob"]
            status = details["TranscriptionJobStatus"]
            if status == "COMPLETED":
                transcripts[uri] = _read_transcript(s3, uri, job)
                del pending[uri]
            elif status == "FAILED":
                logger.error("Transcription failed", extra={"job": job, "reason": details.get("FailureReason")})
                raise PermanentAnalysisError("Amazon Transcribe could not transcribe an audio attachment.")
        if not pending:
            break
        if waited >= TRANSCRIBE_WAIT_SECONDS:
            raise TranscriptionPending(f"{len(pending)} transcription job(s) still running.")
        # Counted rather than timed, so a test's no-op clock still reaches the deadline.
        clock(TRANSCRIBE_POLL_SECONDS)
        waited += TRANSCRIBE_POLL_SECONDS
    return transcripts


def _read_transcript(s3: Any, uri: str, job: str) -> Transcript:
    bucket, _ = _split_s3_uri(uri)
    body = s3.get_object(Bucket=bucket, Key=_transcript_key(job))["Body"].read()
    transcript = Transcript.from_transcribe(body)
    # Transcribe's own text when its items are missing (the text is what the model reads either way).
    written: str = json.loads(body)["results"]["transcripts"][0]["transcript"]
    return transcript if transcript.text else Transcript(written, ())


def transcription_job_name(key: str) -> str:
    """Deterministic per file, so a retry finds its job; Transcribe allows [0-9A-Za-z._-], 200 characters (the
    keys are server-generated `<user>/<task>/<index>.<ext>`, far shorter, so the cut never makes two alike)."""
    return f"clara-{_JOB_NAME_UNSAFE.sub('-', key)}"[:200]


def _transcript_key(job: str) -> str:
    return f"transcripts/{job}.json"


def _split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key
