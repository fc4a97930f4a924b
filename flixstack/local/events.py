"""The local stand-in for the Lambda event source mapping on the events stream: polls the
emulator's Kinesis shards and hands each batch, as the same Kinesis event a Lambda function
receives, to the same handler (``events.wiring.handle``).

It keeps what the mapping promises: records of a shard in order, one batch at a time; a
batch whose records fail (``batchItemFailures``, or an exception for all of them) is
retried from the first failed record, at most ``MAX_RETRIES`` times; after that the failed
range goes to the on-failure destination (the events dead-letter queue) as the mapping's
metadata message, and the shard moves on. Where each shard is stays in the analytics table
(``CHECKPOINT#<stream>``), so a restarted consumer resumes where it stopped; a first start
reads the stream from its oldest record (the sessions drop what was applied already).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from flixstack import spec
from flixstack.aws.clients import AwsClients
from flixstack.aws.queues import Queue
from flixstack.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_kinesis.type_defs import RecordTypeDef

logger = logging.getLogger(__name__)

BATCH_SIZE = spec.EVENTS_BATCH_RECORDS
MAX_RETRIES = spec.EVENTS_MAX_RETRIES
IDLE_S = 0.1
"""Pause after an empty read: the lag an idle consumer adds."""
CHECKPOINT_SK_PREFIX = "SHARD#"

Handler = Callable[[dict[str, Any]], PartialItemFailureResponse]


def checkpoint_pk(stream: str) -> str:
    return f"CHECKPOINT#{stream}"


class StreamPoller:
    def __init__(
        self,
        settings: Settings,
        clients: AwsClients,
        handler: Handler,
        *,
        batch_size: int = BATCH_SIZE,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        naming = settings.naming
        self._stream = naming.stream(spec.EVENTS)
        self._table = naming.table(spec.ANALYTICS)
        self._kinesis = clients.kinesis
        self._dynamodb = clients.dynamodb
        self._region = settings.region
        self._on_failure = Queue(clients.sqs_for(spec.EVENTS_DLQ), naming.queue(spec.EVENTS_DLQ))
        self._handler = handler
        self._batch_size = batch_size
        self._max_retries = max_retries
        self._arn = ""
        self.batches = 0

    def run(self, stop: threading.Event) -> None:
        description = self._kinesis.describe_stream(StreamName=self._stream)
        self._arn = description["StreamDescription"]["StreamARN"]
        shards = [s["ShardId"] for s in description["StreamDescription"]["Shards"]]
        threads = [
            threading.Thread(target=self._shard, args=(shard, stop), name=f"poll-{shard}")
            for shard in shards
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _shard(self, shard: str, stop: threading.Event) -> None:
        after = self._checkpoint(shard)
        iterator = self._iterator(shard, after)
        while not stop.is_set():
            try:
                answer = self._kinesis.get_records(ShardIterator=iterator, Limit=self._batch_size)
            except Exception:
                logger.exception("reading %s failed; reading again", shard)
                stop.wait(1.0)
                iterator = self._iterator(shard, after)
                continue
            records = answer["Records"]
            iterator = answer["NextShardIterator"]
            if not records:
                stop.wait(IDLE_S)
                continue
            done = self._deliver(shard, records)
            after = done
            self._save_checkpoint(shard, done)

    def _deliver(self, shard: str, records: Sequence[RecordTypeDef]) -> str:
        """Hands a batch over until it succeeds or its retries are spent; answers the last
        sequence number the shard is done with."""
        pending = list(records)
        for attempt in range(self._max_retries + 1):
            failed = self._invoke(shard, pending)
            self.batches += 1
            if failed is None:
                return str(records[-1]["SequenceNumber"])
            first = next(i for i, r in enumerate(pending) if r["SequenceNumber"] == failed)
            pending = pending[first:]
            logger.warning("batch of %s failed from %s (attempt %d)", shard, failed, attempt + 1)
        self._send_on_failure(shard, pending)
        return str(records[-1]["SequenceNumber"])

    def _invoke(self, shard: str, records: Sequence[RecordTypeDef]) -> str | None:
        """The handler's first failed sequence number, None when all succeeded."""
        try:
            response = self._handler(self.event(shard, records))
        except Exception:
            logger.exception("the consumer failed a whole batch of %s", shard)
            return str(records[0]["SequenceNumber"])
        failures = [str(f["itemIdentifier"]) for f in response.get("batchItemFailures", [])]
        return min(failures, key=int) if failures else None

    def event(self, shard: str, records: Sequence[RecordTypeDef]) -> dict[str, Any]:
        """The Kinesis event a Lambda function gets for these records."""
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": r["PartitionKey"],
                        "sequenceNumber": r["SequenceNumber"],
                        "data": base64.b64encode(r["Data"]).decode(),
                        "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard}:{r['SequenceNumber']}",
                    "eventName": "aws:kinesis:record",
                    "awsRegion": self._region,
                    "eventSourceARN": self._arn,
                }
                for r in records
            ]
        }

    def _send_on_failure(self, shard: str, records: Sequence[RecordTypeDef]) -> None:
        """What the mapping's on-failure destination gets: where the batch was, not its data
        (the records stay readable in the stream for its retention)."""
        logger.error("giving up on %d records of %s after retries", len(records), shard)
        self._on_failure.send(
            [
                json.dumps(
                    {
                        "requestContext": {
                            "condition": "RetryAttemptsExhausted",
                            "approximateInvokeCount": self._max_retries + 1,
                        },
                        "timestamp": datetime.now(UTC).isoformat(),
                        "KinesisBatchInfo": {
                            "shardId": shard,
                            "startSequenceNumber": records[0]["SequenceNumber"],
                            "endSequenceNumber": records[-1]["SequenceNumber"],
                            "batchSize": len(records),
                            "streamArn": self._arn,
                        },
                    }
                )
            ]
        )

    def _iterator(self, shard: str, after: str | None) -> str:
        if after is None:
            answer = self._kinesis.get_shard_iterator(
                StreamName=self._stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )
        else:
            answer = self._kinesis.get_shard_iterator(
                StreamName=self._stream,
                ShardId=shard,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                StartingSequenceNumber=after,
            )
        return answer["ShardIterator"]

    def _key(self, shard: str) -> dict[str, Any]:
        return {
            spec.PK.name: {"S": checkpoint_pk(self._stream)},
            spec.SK.name: {"S": f"{CHECKPOINT_SK_PREFIX}{shard}"},
        }

    def _checkpoint(self, shard: str) -> str | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key=self._key(shard), ConsistentRead=True
        ).get("Item")
        return item["sequence_number"]["S"] if item else None

    def _save_checkpoint(self, shard: str, sequence_number: str) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                **self._key(shard),
                spec.ENTITY_ATTR: {"S": "checkpoint"},
                "sequence_number": {"S": sequence_number},
            },
        )


def main() -> None:
    """``python -m flixstack.local.events``: the consumer with its poller, until SIGTERM."""
    from flixstack.events import wiring
    from flixstack.process import child_until_stopped
    from flixstack.settings import get_settings

    stop = child_until_stopped()
    settings = get_settings()
    processor = wiring.from_environment(local_lake=True)
    poller = StreamPoller(
        settings, AwsClients(settings), lambda event: wiring.handle(event, processor)
    )
    logger.info("consuming %s", settings.naming.stream(spec.EVENTS))
    poller.run(stop)


if __name__ == "__main__":
    main()
