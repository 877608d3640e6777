"""The analysis tasks' files in the attachments bucket (clara.domain.analysis.ports.Attachments)."""

from typing import Any

from clara.aws import aws_client
from clara.settings import get_settings


class S3Attachments:
    def __init__(self) -> None:
        self.bucket = get_settings().attachments_bucket

    @staticmethod
    def _s3() -> Any:
        return aws_client("s3")

    def put(self, key: str, content: bytes, media_type: str) -> None:
        self._s3().put_object(Bucket=self.bucket, Key=key, Body=content, ContentType=media_type)

    def read(self, key: str) -> bytes:
        return bytes(self._s3().get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def delete(self, keys: list[str]) -> None:
        if keys:
            self._s3().delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
            )

    def delete_under(self, prefix: str) -> None:
        """Every object under `prefix` (a user's files, when the user is deleted)."""
        if not self.bucket:
            return
        s3 = self._s3()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
