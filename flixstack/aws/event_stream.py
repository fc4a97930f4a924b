"""The events stream (Kinesis): where ``POST /events`` puts what it accepts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flixstack.events import schema
from flixstack.events.ingest import Record

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient


class KinesisSink:
    """PutRecords onto one stream, at most 500 records a call."""

    def __init__(self, stream: str, kinesis: KinesisClient) -> None:
        self._stream = stream
        self._kinesis = kinesis

    def put(self, records: Sequence[Record]) -> list[Record]:
        failed: list[Record] = []
        for start in range(0, len(records), schema.MAX_BATCH_EVENTS):
            chunk = records[start : start + schema.MAX_BATCH_EVENTS]
            answer = self._kinesis.put_records(
                StreamName=self._stream,
                Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in chunk],
            )
            if answer.get("FailedRecordCount"):
                failed += [
                    record
                    for record, result in zip(chunk, answer["Records"], strict=True)
                    if "ErrorCode" in result
                ]
        return failed
