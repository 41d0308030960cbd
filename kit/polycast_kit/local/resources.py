"""Create the AWS resources of ``polycast.wiring`` on an emulated endpoint.

The local runtime calls this against its moto server; functional tests call it
inside ``moto.mock_aws``. Both get the same tables, stream, bus, rules, queues and
bucket that the CDK app deploys, from the same definitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from polycast import wiring
from polycast.config import Settings


@dataclass
class LocalResources:
    """Names and URLs of what was created, for the runtime to poll and drain."""

    stream_name: str
    bus_name: str
    bucket: str
    tables: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)


# AWS's advice for a queue a function consumes: hide a received message for six times
# the function's timeout.
VISIBILITY_TIMEOUT_FUNCTION_TIMEOUTS = 6


def visibility_timeout_seconds(queue: wiring.Queue) -> int:
    """How long a received event stays hidden from the next receive.

    A drain deletes an event once delivered and asks for a short timeout when its
    invocation fails; until then the event waits in its lane and runs. SQS's 30 s
    default would hand a slow one out again while it is still in hand (twice to the
    broadcaster, maybe in two containers), which an asynchronous invocation never
    is: Lambda retries a failure, not slowness.
    """
    timeouts = [
        rule.target_function.timeout_seconds
        for rule in wiring.RULES
        if rule.local_queue == queue and rule.target_function is not None
    ]
    longest = max(timeouts, default=wiring.Function.timeout_seconds)
    return VISIBILITY_TIMEOUT_FUNCTION_TIMEOUTS * longest


def local_settings(**overrides: Any) -> Settings:
    """Settings whose resource names are the wiring's local names."""
    base: dict[str, Any] = {
        "sessions_table": wiring.SESSIONS.local_name,
        "connections_table": wiring.CONNECTIONS.local_name,
        "cached_translations_table": wiring.CACHED_TRANSLATIONS.local_name,
        "segments_table": wiring.SEGMENTS.local_name,
        "idempotency_table": wiring.IDEMPOTENCY.local_name,
        "audio_bucket": wiring.AUDIO_BUCKET_LOCAL_NAME,
        "event_bus_name": wiring.BUS_NAME,
        "transcript_stream": wiring.TRANSCRIPT_STREAM_LOCAL_NAME,
    }
    base.update(overrides)
    return Settings(**base)


def _table_name(settings: Settings, table: wiring.Table) -> str:
    return {
        wiring.SESSIONS.logical_id: settings.sessions_table,
        wiring.CONNECTIONS.logical_id: settings.connections_table,
        wiring.CACHED_TRANSLATIONS.logical_id: settings.cached_translations_table,
        wiring.SEGMENTS.logical_id: settings.segments_table,
        wiring.IDEMPOTENCY.logical_id: settings.idempotency_table,
    }[table.logical_id]


def _create_table(ddb: Any, name: str, table: wiring.Table) -> None:
    keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
    attrs = {k.name: k.type for k in keys}
    for index in table.indexes:
        attrs[index.partition_key.name] = index.partition_key.type
        if index.sort_key:
            attrs[index.sort_key.name] = index.sort_key.type

    def key_schema(pk: wiring.Key, sk: wiring.Key | None) -> list[dict[str, str]]:
        schema = [{"AttributeName": pk.name, "KeyType": "HASH"}]
        if sk:
            schema.append({"AttributeName": sk.name, "KeyType": "RANGE"})
        return schema

    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema(table.partition_key, table.sort_key),
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in sorted(attrs.items())
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in table.indexes
        ]
    ddb.create_table(**params)
    if table.ttl_attribute:
        ddb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )


def create_resources(
    settings: Settings,
    *,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    shard_count: int = 1,
) -> LocalResources:
    """Create every resource the wiring names. Safe to call once per fresh emulator."""
    kw: dict[str, Any] = {"region_name": region}
    if endpoint_url:
        kw["endpoint_url"] = endpoint_url
    ddb = boto3.client("dynamodb", **kw)
    kinesis = boto3.client("kinesis", **kw)
    events = boto3.client("events", **kw)
    sqs = boto3.client("sqs", **kw)
    s3 = boto3.client("s3", **kw)

    out = LocalResources(
        stream_name=settings.transcript_stream,
        bus_name=settings.event_bus_name,
        bucket=settings.audio_bucket,
    )
    for table in wiring.TABLES:
        name = _table_name(settings, table)
        _create_table(ddb, name, table)
        out.tables[table.logical_id] = name

    kinesis.create_stream(StreamName=settings.transcript_stream, ShardCount=shard_count)
    s3.create_bucket(Bucket=settings.audio_bucket)
    bus_arn = events.create_event_bus(Name=settings.event_bus_name)["EventBusArn"]
    events.create_archive(
        ArchiveName=wiring.ARCHIVE_LOCAL_NAME,
        EventSourceArn=bus_arn,
        EventPattern=json.dumps({"source": [wiring.SOURCE]}),
        Description="polycast events, for export and summaries (as the deployed archive)",
    )

    queues = [wiring.ON_FAILURE_QUEUE] + [r.local_queue for r in wiring.RULES if r.local_queue]
    for queue in queues:
        url = sqs.create_queue(
            QueueName=queue.local_name,
            Attributes={"VisibilityTimeout": str(visibility_timeout_seconds(queue))},
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        out.queue_urls[queue.logical_id] = url
        out.queue_arns[queue.logical_id] = arn

    # Rules deliver to SQS locally (moto cannot invoke Lambda targets); the runtime
    # drains each queue into the function the rule targets when deployed.
    for rule in wiring.RULES:
        assert rule.local_queue is not None
        events.put_rule(
            Name=rule.logical_id,
            EventBusName=settings.event_bus_name,
            EventPattern=json.dumps(rule.event_pattern),
            State="ENABLED",
            Description=rule.description,
        )
        events.put_targets(
            Rule=rule.logical_id,
            EventBusName=settings.event_bus_name,
            Targets=[{"Id": "local", "Arn": out.queue_arns[rule.local_queue.logical_id]}],
        )
    return out
