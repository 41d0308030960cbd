"""Where the CLI sends its requests: chosen explicitly, never by falling through.

* ``--stack NAME`` (repeatable; with ``--region`` / ``--profile``): a deployed stack,
  its names read from the stack's CloudFormation outputs;
* ``--endpoint-url URL``: that endpoint (a loopback one gets dummy credentials);
* otherwise the local runtime, when ``.polycast/local.json`` (or ``--state-dir``) is
  there;
* otherwise :class:`TargetError`: one line saying to start ``polycast local`` or pass
  ``--stack``. Real AWS is only reached when asked for.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from polycast import wiring

STATE_DIR_ENV = "POLYCAST_STATE_DIR"
LOCAL_CREDENTIALS = "polycast-local"

# CloudFormation outputs the CLI reads (infra/stacks: PolycastState, PolycastPipeline).
STACK_OUTPUTS = {
    "stream": "TranscriptStreamName",
    "bus": "EventBusName",
    "websocket_url": "WebSocketUrl",
    "listener_page": "ListenerPageUrl",
}


class TargetError(Exception):
    """No target, or a target that cannot be used: one line for the user."""


def state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV, ".polycast"))


def read_local_state(directory: Path | None = None) -> dict[str, Any] | None:
    path = (directory or state_dir()) / "local.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def no_target_message(directory: Path | None = None) -> str:
    where = (directory or state_dir()) / "local.json"
    return (
        f"no local runtime found ({where} does not exist): start `polycast local` in "
        "another terminal, or pass --stack NAME [--region REGION] [--profile PROFILE] "
        "to use a deployed stack"
    )


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target (default: the local runtime)")
    group.add_argument(
        "--stack",
        action="append",
        metavar="NAME",
        help="a deployed stack: names come from its outputs (repeatable, e.g. "
        "--stack PolycastState --stack PolycastPipeline)",
    )
    group.add_argument("--region", help="AWS region of --stack (default: your AWS config)")
    group.add_argument("--profile", help="AWS profile for --stack (default: your AWS config)")
    group.add_argument("--endpoint-url", help="an explicit AWS endpoint (e.g. an emulator)")
    group.add_argument("--stream", help="transcript stream name (default: the target's)")
    group.add_argument("--bus", help="event bus name (default: the target's)")
    group.add_argument(
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
    profile: str | None = None
    listener_page: str | None = None
    stacks: tuple[str, ...] = ()

    def client(self, service: str) -> Any:
        kw: dict[str, Any] = {}
        if self.endpoint_url:
            kw["endpoint_url"] = self.endpoint_url
        if self.region:
            kw["region_name"] = self.region
        if self.local:
            # The emulator accepts any credentials; do not require an AWS profile.
            kw.setdefault("aws_access_key_id", LOCAL_CREDENTIALS)
            kw.setdefault("aws_secret_access_key", LOCAL_CREDENTIALS)
            return boto3.client(service, **kw)  # type: ignore[call-overload]
        session = boto3.Session(profile_name=self.profile) if self.profile else boto3
        return session.client(service, **kw)  # type: ignore[call-overload]

    def describe(self) -> str:
        if self.local:
            return f"{self.stream} (local)"
        if self.stacks:
            return f"{self.stream} (stack {', '.join(self.stacks)})"
        return self.stream


def _loopback(url: str) -> bool:
    return any(host in url for host in ("://127.", "://localhost", "://[::1]"))


def stack_outputs(
    stacks: Collection[str], *, region: str | None, profile: str | None, client: Any = None
) -> dict[str, str]:
    """The outputs of the named stacks, merged (later stacks win)."""
    if client is None:
        session = boto3.Session(profile_name=profile, region_name=region)
        client = session.client("cloudformation")
    outputs: dict[str, str] = {}
    for name in stacks:
        described = client.describe_stacks(StackName=name)["Stacks"]
        for stack in described:
            for output in stack.get("Outputs", []):
                outputs[str(output["OutputKey"])] = str(output["OutputValue"])
    return outputs


def _from_stack(
    args: argparse.Namespace, needs: Collection[str], cloudformation: Any = None
) -> Target:
    stacks = tuple(args.stack)
    region, profile = getattr(args, "region", None), getattr(args, "profile", None)
    outputs = stack_outputs(stacks, region=region, profile=profile, client=cloudformation)
    given = {"stream": getattr(args, "stream", None), "bus": getattr(args, "bus", None)}
    values: dict[str, str | None] = {
        field: given.get(field) or outputs.get(key) for field, key in STACK_OUTPUTS.items()
    }
    for field in needs:
        if not values.get(field):
            raise TargetError(
                f"stack {', '.join(stacks)} has no output {STACK_OUTPUTS[field]}; add the "
                f"stack that has it (--stack PolycastState holds the stream, --stack "
                f"PolycastPipeline the bus and WebSocket URL) or pass --{field.replace('_', '-')}"
            )
    return Target(
        endpoint_url=getattr(args, "endpoint_url", None),
        region=region,
        stream=values["stream"] or "",
        bus=values["bus"] or wiring.BUS_NAME,
        websocket_url=values["websocket_url"],
        local=False,
        profile=profile,
        listener_page=values["listener_page"],
        stacks=stacks,
    )


def _from_state(args: argparse.Namespace, state: Mapping[str, Any]) -> Target:
    return Target(
        endpoint_url=str(state["awsEndpoint"]),
        region=getattr(args, "region", None) or str(state.get("region", "us-east-1")),
        stream=getattr(args, "stream", None) or str(state["transcriptStream"]),
        bus=getattr(args, "bus", None) or str(state.get("eventBus", wiring.BUS_NAME)),
        websocket_url=state.get("websocketUrl"),
        local=True,
        listener_page=state.get("listenerPage"),
    )


def resolve_target(
    args: argparse.Namespace,
    *,
    needs: Collection[str] = ("stream",),
    cloudformation: Any = None,
) -> Target:
    """The target the user asked for (see the module docstring); raises TargetError."""
    if getattr(args, "stack", None):
        return _from_stack(args, needs, cloudformation)
    state = read_local_state(getattr(args, "state_dir", None))
    endpoint = getattr(args, "endpoint_url", None)
    if endpoint is None or (state is not None and endpoint == state.get("awsEndpoint")):
        if state is None:
            raise TargetError(no_target_message(getattr(args, "state_dir", None)))
        return _from_state(args, state)
    local = _loopback(endpoint)
    return Target(
        endpoint_url=endpoint,
        region=getattr(args, "region", None) or ("us-east-1" if local else None),
        stream=getattr(args, "stream", None) or wiring.TRANSCRIPT_STREAM_LOCAL_NAME,
        bus=getattr(args, "bus", None) or wiring.BUS_NAME,
        websocket_url=None,
        local=local,
        profile=getattr(args, "profile", None),
    )
