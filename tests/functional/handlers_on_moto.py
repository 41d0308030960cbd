"""Handlers on moto, as the functional tests run them: fake credentials, the settings
in the environment a deployed function reads, and the wiring's resources created."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from polycast.config import Settings
from polycast_kit.local.resources import LocalResources, create_resources

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def moto_resources(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, **env: str
) -> Iterator[LocalResources]:
    """moto with the wiring's resources; ``settings`` (and ``env``) in the environment."""
    for name, value in {**FAKE_CREDENTIALS, **env, **settings.as_env()}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield create_resources(settings)


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message body waiting in the queue (JSON), each deleted once read."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
