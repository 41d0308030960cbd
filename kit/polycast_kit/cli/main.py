"""Entry point of the ``polycast`` console script.

A user's mistake (no target, no credentials, a runtime that is not running, a
missing or broken file) ends in one line on stderr, never a traceback: exit code 2
for what the command line asked wrongly, 1 for what failed on the way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from polycast import __version__
from polycast_kit.cli import (
    bench,
    cost,
    demo,
    events,
    listen,
    local_cmd,
    measure,
    produce,
    reliability,
    session_cmd,
    speak,
)
from polycast_kit.cli.endpoints import TargetError


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="polycast",
        description="Broadcast live speech across languages: Kinesis in, translated text "
        "and speech out over WebSockets.",
    )
    root.add_argument("--version", action="version", version=f"polycast {__version__}")
    subparsers = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        local_cmd,
        demo,
        session_cmd,
        produce,
        listen,
        events,
        measure,
        bench,
        cost,
        reliability,
    ):
        module.register(subparsers)
    speak.register(subparsers)
    return root


def explain(exc: BaseException) -> tuple[str, int] | None:
    """(one line, exit code) for a known user-facing error; None for a bug."""
    if isinstance(exc, TargetError):
        return str(exc), 2
    if isinstance(exc, BotoCoreError | ClientError):
        return _explain_aws(exc)
    return _explain_local(exc)


def _explain_aws(exc: BotoCoreError | ClientError) -> tuple[str, int]:
    """The AWS client's errors: configuration, reachability, refusals."""
    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region REGION (or set AWS_REGION)", 2
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials: configure them (aws configure, AWS_PROFILE) or pass "
            "--profile PROFILE",
            2,
        )
    if isinstance(exc, ProfileNotFound):
        return f"{exc}; see `aws configure list-profiles`", 2
    if isinstance(exc, EndpointConnectionError):
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "the endpoint")
        return (
            f"cannot reach {url}: is `polycast local` still running? (its local.json may "
            "be left over from a runtime that was killed)",
            1,
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"AWS refused the request: {error.get('Code', '?')}: {error.get('Message', '')}", 1
    return f"AWS client error: {exc}", 1


def _explain_local(exc: BaseException) -> tuple[str, int] | None:
    """Files, JSON and sockets on this machine."""
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}", 2
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc}", 2
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused: {exc}; is `polycast local` running?", 1
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}", 1
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        known = explain(exc)
        if known is None:
            raise
        message, code = known
        print(f"polycast {args.command}: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
