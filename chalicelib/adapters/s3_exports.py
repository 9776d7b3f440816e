"""Export files in S3: written part by part (multipart upload), read through presigned links.

A ClientError becomes ExportStorageError here, with S3's error code as its reason."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import StewardError

# S3 takes parts of 5 MiB or more (the last one aside); 8 MiB keeps memory flat and a
# year of gifts (about 60 MB of CSV for 100,000) in under a dozen parts.
PART_BYTES = 8 * 1024 * 1024


class ExportStorageError(StewardError):
    """S3 refused or failed a call of an export's upload or link."""


def _storage_error(exc: Exception) -> ExportStorageError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        return ExportStorageError(f"S3 said {code}")
    return ExportStorageError(f"S3 did not answer: {type(exc).__name__}")


class MultipartFile:
    """One object written as it is produced: a part is sent in the background while the
    next one fills, so at most two parts are in memory."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.buffer = bytearray()
        self.parts: list[dict[str, Any]] = []
        self.sender = ThreadPoolExecutor(max_workers=1)
        self.sending: Future[None] | None = None
        try:
            created = client.create_multipart_upload(
                Bucket=bucket, Key=key, ContentType="text/csv; charset=utf-8", ServerSideEncryption="AES256"
            )
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error(exc) from exc
        self.upload_id = str(created["UploadId"])

    def write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= PART_BYTES:
            self._flush()

    def _flush(self) -> None:
        self._wait()
        number = len(self.parts) + 1
        self.parts.append({"PartNumber": number})
        self.sending = self.sender.submit(self._send, number, bytes(self.buffer))
        self.buffer = bytearray()

    def _send(self, number: int, body: bytes) -> None:
        answer = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self.parts[number - 1]["ETag"] = answer["ETag"]

    def _wait(self) -> None:
        """Wait for the part in flight; its failure is this call's."""
        if self.sending is not None:
            sending, self.sending = self.sending, None
            try:
                sending.result()
            except (ClientError, BotoCoreError) as exc:
                raise _storage_error(exc) from exc

    def complete(self) -> None:
        if self.buffer or not self.parts:
            self._flush()
        self._wait()
        self.sender.shutdown()
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self.parts},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error(exc) from exc

    def abort(self) -> None:
        """Drop the parts uploaded so far (best effort: the lifecycle rule also aborts them)."""
        self.sender.shutdown(wait=True)
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except (ClientError, BotoCoreError):
            pass


class S3ExportStore:
    def __init__(self, bucket: str, boto3_client: Any) -> None:
        self.bucket = bucket
        self.client = boto3_client

    def open(self, key: str) -> MultipartFile:
        return MultipartFile(self.client, self.bucket, key)

    def link(self, key: str, seconds: int, filename: str) -> str:
        """A GET link that works for `seconds`, and saves the file under `filename`."""
        try:
            return str(
                self.client.generate_presigned_url(
                    "get_object",
                    Params={
                        "Bucket": self.bucket,
                        "Key": key,
                        "ResponseContentDisposition": f'attachment; filename="{filename}"',
                        "ResponseContentType": "text/csv; charset=utf-8",
                    },
                    ExpiresIn=seconds,
                )
            )
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error(exc) from exc
