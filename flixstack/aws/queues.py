"""One SQS queue of the spec: send in batches, receive, delete."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from flixstack.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

BATCH = 10
"""SendMessageBatch's limit."""


class Queue:
    def __init__(self, sqs: SQSClient, name: str) -> None:
        self._sqs = sqs
        self.name = name
        self._url: str | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        with self._lock:
            if self._url is None:
                try:
                    self._url = self._sqs.get_queue_url(QueueName=self.name)["QueueUrl"]
                except ClientError as exc:
                    raise ServiceUnavailable(f"queue {self.name}: {exc}") from exc
            return self._url

    def send(self, bodies: Sequence[str]) -> None:
        """Sends every body (in batches); ServiceUnavailable if any is refused."""
        for start in range(0, len(bodies), BATCH):
            entries = [
                {"Id": str(n), "MessageBody": body}
                for n, body in enumerate(bodies[start : start + BATCH])
            ]
            try:
                sent = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)  # type: ignore[arg-type]
            except ClientError as exc:
                raise ServiceUnavailable(f"could not send to queue {self.name}: {exc}") from exc
            if sent.get("Failed"):
                raise ServiceUnavailable(f"queue {self.name} refused {sent['Failed']}")

    def receive(self, wait_s: int, visibility_s: int, max_messages: int = BATCH) -> list[Any]:
        response = self._sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_s,
            VisibilityTimeout=visibility_s,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return list(response.get("Messages", []))

    def delete(self, receipt: str) -> None:
        self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
