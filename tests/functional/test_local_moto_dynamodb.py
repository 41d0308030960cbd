"""The embedded AWS answers plain DynamoDB results with ``json.dumps`` instead of moto's
shape walk: every answer must be the one moto's own serializer writes.

Each call below goes through the real moto server; the patched ``serialized`` is
wrapped so that every answer is also written by moto's serializer (the original,
``__wrapped__``) and the two compared: same status, same Content-Type, same JSON.
Binary attributes, datetimes and errors must take moto's own path.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from polycast_kit.local.aws import EmbeddedAws
from polycast_kit.local.moto_dynamodb import CONTENT_TYPE, plain_json_answer


def test_plain_answers_equal_motos_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    aws = EmbeddedAws(port=0)
    aws.start()  # applies the patch
    from moto.dynamodb.responses import DynamoHandler

    patched = DynamoHandler.serialized
    own = patched.__wrapped__  # type: ignore[attr-defined]
    compared: list[tuple[str, bool]] = []

    def both(self: Any, action_result: Any) -> Any:
        fast = patched(self, action_result)
        slow = own(self, action_result)
        action = self._get_action()
        assert fast[0] == slow[0], action
        assert fast[1]["Content-Type"] == slow[1]["Content-Type"], action
        assert json.loads(fast[2]) == json.loads(slow[2]), action
        compared.append((action, plain_json_answer(action_result.result) is not None))
        return fast

    monkeypatch.setattr(DynamoHandler, "serialized", both)
    try:
        ddb = boto3.client("dynamodb", endpoint_url=aws.endpoint_url, region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        item: dict[str, Any] = {
            "pk": {"S": "s#es"},
            "sk": {"N": "1"},
            "text": {"S": '¿Dónde está la biblioteca? "quoted" \\ and \u2028'},
            "on": {"BOOL": True},
            "none": {"NULL": True},
            "tags": {"SS": ["a", "b"]},
            "nums": {"NS": ["1", "2.5"]},
            "list": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"k": {"S": "v"}}}]},
        }
        ddb.put_item(TableName="t", Item=item)  # type: ignore[arg-type]
        ddb.put_item(TableName="t", Item={"pk": {"S": "s#es"}, "sk": {"N": "2"}})
        ddb.put_item(
            TableName="t", Item={"pk": {"S": "s#fr"}, "sk": {"N": "1"}, "raw": {"B": b"\x00\xff"}}
        )
        assert ddb.get_item(TableName="t", Key={"pk": item["pk"], "sk": item["sk"]})["Item"] == item
        got = ddb.get_item(TableName="t", Key={"pk": {"S": "s#fr"}, "sk": {"N": "1"}})["Item"]
        assert got["raw"] == {"B": b"\x00\xff"}  # binary: moto's own path, still right
        queried = ddb.query(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "s#es"}},
            Limit=1,
        )
        assert queried["Count"] == 1
        assert "LastEvaluatedKey" in queried
        assert ddb.scan(TableName="t")["Count"] == 3
        updated = ddb.update_item(
            TableName="t",
            Key={"pk": {"S": "s#es"}, "sk": {"N": "2"}},
            UpdateExpression="SET delivered = :t ADD n :one",
            ExpressionAttributeValues={":t": {"BOOL": True}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )
        assert updated["Attributes"]["n"] == {"N": "1"}
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "s#ca"}, "sk": {"N": "1"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "s#es"}, "sk": {"N": "1"}},
                        "UpdateExpression": "SET seen = :t",
                        "ExpressionAttributeValues": {":t": {"BOOL": True}},
                    }
                },
            ]
        )
        with pytest.raises(ClientError) as refused:
            ddb.put_item(
                TableName="t",
                Item={"pk": {"S": "s#ca"}, "sk": {"N": "1"}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
        batch = ddb.batch_get_item(
            RequestItems={"t": {"Keys": [{"pk": {"S": "s#ca"}, "sk": {"N": "1"}}]}}
        )
        assert len(batch["Responses"]["t"]) == 1
        ddb.batch_write_item(
            RequestItems={
                "t": [{"DeleteRequest": {"Key": {"pk": {"S": "s#ca"}, "sk": {"N": "1"}}}}]
            }
        )
        described = ddb.describe_table(TableName="t")["Table"]  # datetimes: moto's own path
        assert described["TableName"] == "t"
    finally:
        monkeypatch.undo()
        aws.stop()

    actions = {action for action, _ in compared}
    assert {"PutItem", "GetItem", "Query", "Scan", "UpdateItem", "TransactWriteItems"} <= actions
    assert {"BatchGetItem", "BatchWriteItem", "DescribeTable"} <= actions
    plain = {action for action, is_plain in compared if is_plain}
    assert {"GetItem", "Query", "UpdateItem", "TransactWriteItems"} <= plain
    assert ("DescribeTable", False) in compared
    assert ("GetItem", False) in compared


def test_plain_json_answer_leaves_bytes_datetimes_and_errors_to_moto() -> None:
    from datetime import UTC, datetime

    assert plain_json_answer({"Item": {"a": {"S": "x"}}}) == '{"Item": {"a": {"S": "x"}}}'
    assert plain_json_answer({"Item": {"b": {"B": b"\x00"}}}) is None
    assert plain_json_answer({"CreationDateTime": datetime.now(UTC)}) is None
    assert plain_json_answer(ValueError("no")) is None
    assert CONTENT_TYPE == "application/x-amz-json-1.0"


def test_name_conversions_are_cached_and_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's CamelCase → snake_case conversion is remembered where SQS and every
    request call it, and still converts as before."""
    import importlib

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    aws = EmbeddedAws(port=0)
    aws.start()
    try:
        users = [importlib.import_module(m) for m in ("moto.core.responses", "moto.sqs.models")]
        convert = users[1].camelcase_to_underscores
        assert all(m.camelcase_to_underscores is convert for m in users)
        assert convert.cache_info().maxsize == 4096  # the cached one, not moto's own
        assert convert("ApproximateNumberOfMessages") == "approximate_number_of_messages"
        assert convert("ReceiveMessageWaitTimeSeconds") == "receive_message_wait_time_seconds"
        assert convert("KmsMasterKeyId") == "kms_master_key_id"
        before = convert.cache_info().hits
        sqs = boto3.client("sqs", endpoint_url=aws.endpoint_url, region_name="us-east-1")
        url = sqs.create_queue(QueueName="names")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="x")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "1"
        assert convert.cache_info().hits > before + 10  # a queue's attributes: cache hits
    finally:
        aws.stop()
