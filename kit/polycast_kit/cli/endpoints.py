"""Where the CLI sends its requests: the local runtime when it runs, AWS otherwise.

``--endpoint-url``, ``--region`` and ``--stream`` default from
``.polycast/local.json`` when present; without it boto3's normal chain (profile,
environment, instance role) reaches real AWS.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from polycast import wiring

STATE_DIR_ENV = "POLYCAST_STATE_DIR"


def state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV, ".polycast"))


def read_local_state(directory: Path | None = None) -> dict[str, Any] | None:
    path = (directory or state_dir()) / "local.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url", help="AWS endpoint (default: the local runtime's, if running)"
    )
    parser.add_argument("--region", help="AWS region (default: the local runtime's, or boto3's)")
    parser.add_argument("--stream", help="transcript stream name (default: the local runtime's)")
    parser.add_argument("--bus", help="event bus name (default: polycast)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="where `polycast local` wrote local.json (default: .polycast)",
    )


@dataclass(frozen=True)
class Target:
    """The AWS endpoint, region and names one command talks to."""

    endpoint_url: str | None
    region: str | None
    stream: str
    bus: str
    websocket_url: str | None
    local: bool

    def client(self, service: str) -> Any:
        kw: dict[str, Any] = {}
        if self.endpoint_url:
            kw["endpoint_url"] = self.endpoint_url
        if self.region:
            kw["region_name"] = self.region
        if self.local:
            # The emulator accepts any credentials; do not require an AWS profile.
            kw.setdefault("aws_access_key_id", "polycast-local")
            kw.setdefault("aws_secret_access_key", "polycast-local")
        return boto3.client(service, **kw)  # type: ignore[call-overload]


def resolve_target(args: argparse.Namespace) -> Target:
    state = read_local_state(getattr(args, "state_dir", None))
    endpoint = getattr(args, "endpoint_url", None)
    local = state is not None and (endpoint is None or endpoint == state.get("awsEndpoint"))
    if local and state is not None:
        return Target(
            endpoint_url=endpoint or state.get("awsEndpoint"),
            region=getattr(args, "region", None) or state.get("region", "us-east-1"),
            stream=getattr(args, "stream", None) or state["transcriptStream"],
            bus=getattr(args, "bus", None) or state.get("eventBus", wiring.BUS_NAME),
            websocket_url=state.get("websocketUrl"),
            local=True,
        )
    loopback = bool(endpoint) and any(h in str(endpoint) for h in ("127.0.0.1", "localhost"))
    return Target(
        endpoint_url=endpoint,
        region=getattr(args, "region", None),
        stream=getattr(args, "stream", None) or wiring.TRANSCRIPT_STREAM_LOCAL_NAME,
        bus=getattr(args, "bus", None) or wiring.BUS_NAME,
        websocket_url=None,
        local=loopback,
    )
