"""``LocalRuntime``: the whole pipeline on one machine, started and stopped as one.

Start order matters: the moto server and the gateway bind first (so their real
ports are known and a busy port fails fast), then the functions' environment is
set, the wiring's resources are created, the handlers are loaded (a fresh
"container" each), and the poller and queue drains start. ``stop()`` undoes it
in reverse and restores the process environment.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web

from polycast import wiring
from polycast.adapters.aws.transcribe_url import PATH as TRANSCRIBE_PATH
from polycast.config import Settings
from polycast.wiring import Env
from polycast_kit import engines
from polycast_kit.local.aws import KINESIS_PUTS, EmbeddedAws
from polycast_kit.local.containers import ContainerRunner
from polycast_kit.local.event_queues import EventLog, QueueDrain
from polycast_kit.local.functions import (
    FunctionRunner,
    Handler,
    load_module,
    metrics_reset,
    repo_root,
)
from polycast_kit.local.gateway import WebSocketGateway
from polycast_kit.local.gateway.export import TranscriptSource
from polycast_kit.local.kinesis_poller import KinesisPoller
from polycast_kit.local.resources import LocalResources, create_resources, local_settings
from polycast_kit.local.schedules import ScheduleTimer
from polycast_kit.local.state_lock import StateDirBusy, StateDirLock
from polycast_kit.transcribe.presigned import LocalCredentials
from polycast_kit.transcribe.route import Recognizer, transcribe_route

log = logging.getLogger("polycast.local.runtime")

STATE_FILE = "local.json"
DEFAULT_LANGUAGES = ("es", "ca", "gl", "fr", "pt", "it", "ro")
# The functions' dummy credentials: the emulator ignores them; the local Transcribe
# endpoint checks the speaker function's presigned URLs against them.
LOCAL_ACCESS_KEY = LOCAL_SECRET_KEY = "polycast-local"  # noqa: S105 - a dummy, by design


ROUTE_FUNCTIONS: dict[str, wiring.Function] = {r.route_key: r.function for r in wiring.ROUTES}
# Functions whose invocations run in their own processes, and how many at once
# (``containers.py``): the fan-out, which in-process waited on the interpreter lock
# more than it worked (docs/local.md). The rest run in threads of this process.
CONTAINERS: Mapping[str, int] = {wiring.BROADCASTER.logical_id: 4}

__all__ = ["LocalRuntime", "PortInUse", "RuntimeEndpoints", "StateDirBusy"]


class PortInUse(RuntimeError):
    """A port the runtime needs is taken; says which and how to choose another."""

    def __init__(self, port: int, flag: str) -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use; stop whatever uses it "
            f"or choose another port with {flag} <port>"
        )
        self.port = port
        self.flag = flag


@dataclass(frozen=True)
class RuntimeEndpoints:
    """What ``.polycast/local.json`` holds (docs/local.md): how any client reaches the runtime."""

    aws_endpoint: str
    region: str
    transcript_stream: str
    event_bus: str
    websocket_url: str
    listener_page: str
    languages: tuple[str, ...]
    # --lan: pages and the listeners' WebSocket on a public address; the management
    # API and the AWS endpoint stay on loopback (``management_endpoint``).
    lan: bool = False
    management_endpoint: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "awsEndpoint": self.aws_endpoint,
            "region": self.region,
            "transcriptStream": self.transcript_stream,
            "eventBus": self.event_bus,
            "websocketUrl": self.websocket_url,
            "listenerPage": self.listener_page,
            "languages": list(self.languages),
        }
        if self.lan:
            # `polycast session create` reads it: a join code by default in this mode.
            out.update(lan=True, managementEndpoint=self.management_endpoint)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuntimeEndpoints:
        return cls(
            aws_endpoint=str(data["awsEndpoint"]),
            region=str(data.get("region", "us-east-1")),
            transcript_stream=str(data["transcriptStream"]),
            event_bus=str(data.get("eventBus", wiring.BUS_NAME)),
            websocket_url=str(data["websocketUrl"]),
            listener_page=str(data["listenerPage"]),
            languages=tuple(data.get("languages", ())),
            lan=bool(data.get("lan", False)),
            management_endpoint=data.get("managementEndpoint"),
        )

    def describe(self) -> str:
        return "\n".join(
            [
                "Polycast local runtime is ready:",
                f"  AWS endpoint    {self.aws_endpoint}  (region {self.region})",
                f"  transcripts     Kinesis stream {self.transcript_stream}",
                f"  event bus       {self.event_bus}",
                f"  WebSocket       {self.websocket_url}/?sessionId=<id>&targetLanguage=<code>",
                f"  listener page   {self.listener_page}",
                f"  languages       {', '.join(self.languages)}",
                *(
                    [
                        f"  on this machine {self.management_endpoint}/  (speaker page, "
                        "@connections: loopback only)"
                    ]
                    if self.lan
                    else []
                ),
            ]
        )


def discover_languages() -> tuple[str, ...]:
    """Target languages the installed local engines can serve."""
    return tuple(engines.supported_languages("en"))


def _function_env(settings: Settings, aws_endpoint: str, log_level: str) -> dict[str, str]:
    """The environment the deployed functions get, pointed at the embedded services."""
    env = settings.as_env()
    env.update(
        {
            Env.AWS_ENDPOINT_URL: aws_endpoint,
            # Dummy credentials: the emulator ignores them, and no real account is touched.
            "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
            Env.AWS_DEFAULT_REGION: settings.region,
            Env.AWS_REGION: settings.region,
            Env.POWERTOOLS_SERVICE_NAME: "polycast",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": log_level,
            "POWERTOOLS_METRICS_DISABLED": "true" if log_level != "DEBUG" else "false",
        }
    )
    return env


@dataclass
class LocalRuntime:
    """The embedded runtime. A context manager; ports 0 pick free ones (tests).

    ``handlers`` replaces functions by logical id (tests use tiny handlers);
    ``state_dir`` None writes no ``local.json``. ``public_host`` (``--lan``) serves the
    listeners' side there too; everything else stays on ``host`` (loopback).
    """

    aws_port: int = 4566
    ws_port: int = 8080
    host: str = "127.0.0.1"
    state_dir: Path | None = Path(".polycast")
    root: Path = field(default_factory=repo_root)
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    idle_timeout_seconds: float = 600
    log_level: str = "WARNING"
    shard_count: int = 1
    settings_overrides: Mapping[str, Any] = field(default_factory=dict)
    public_host: str | None = None
    # What the gateway's /export reads from, made once the endpoints are known (the CLI
    # hands in the reader `polycast session export` uses); None: no downloads.
    transcripts: Callable[[RuntimeEndpoints], TranscriptSource] | None = None
    # Logical id → worker processes; {} runs every function in-process.
    containers: Mapping[str, int] = field(default_factory=lambda: dict(CONTAINERS))

    def __post_init__(self) -> None:
        self.aws = EmbeddedAws(self.host, self.aws_port)
        self.gateway: WebSocketGateway | None = None
        self.runners: dict[str, FunctionRunner | ContainerRunner] = {}
        self.poller: KinesisPoller | None = None
        self.drains: list[QueueDrain] = []
        self.timers: list[ScheduleTimer] = []
        self.resources: LocalResources | None = None
        self.endpoints: RuntimeEndpoints | None = None
        self.settings: Settings | None = None
        self._saved_env: dict[str, str] | None = None
        self._ready = False
        self._transcribe: Callable[[web.Request], Any] | None = None
        self._transcripts: TranscriptSource | None = None
        # Each finished recognition stream's (audio s, decoding CPU s, decoding wall s).
        self.recognitions: list[tuple[float, float, float]] = []
        # One runtime per state folder; None when no state folder is written.
        self.lock = StateDirLock(self.state_dir) if self.state_dir is not None else None

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> RuntimeEndpoints:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        assert self.endpoints is not None
        return self.endpoints

    def _bind(self, start: Callable[[], None], port: int, flag: str) -> None:
        try:
            start()
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(port, flag) from exc
            raise

    def _start(self) -> None:
        if self.lock is not None:
            self.lock.acquire()  # raises StateDirBusy naming the running runtime
        engines.register()  # the handlers' composition builds Apertium/espeak-ng under "local"
        self._bind(self.aws.start, self.aws_port, "--aws-port")
        self.gateway = WebSocketGateway(
            self._invoke_route,
            host=self.host,
            port=self.ws_port,
            web_root=self.root / "web",
            config=self._page_config,
            read_audio=self._read_audio,
            idle_timeout_seconds=self.idle_timeout_seconds,
            public_host=self.public_host,
            # Amazon Transcribe's streaming protocol, offline (docs/speech-recognition.md).
            extra_routes=[web.get(TRANSCRIBE_PATH, self._transcribe_stream)],
            transcripts=lambda: self._transcripts,
        )
        self._bind(self.gateway.start, self.ws_port, "--ws-port")

        local: dict[str, Any] = {
            "engines": "local",
            # The broadcaster's @connections client: the loopback listener, always.
            "api_gateway_endpoint": self.gateway.management_url,
            "aws_endpoint_url": self.aws.endpoint_url,
            # Referenced audio is served by the gateway from the local bucket.
            "audio_url_base": f"{self.gateway.public_http_url}/audio/",
            # Apertium and espeak-ng have no per-account request rate to respect.
            "translate_tps": 0,
            "polly_neural_tps": 0,
            "polly_standard_tps": 0,
            # The gateway holds posts that arrive during $connect until the upgrade,
            # so a 410 here always means gone.
            "prune_grace_seconds": 0,
            # The speaker function signs URLs for the gateway's own recognizer.
            "transcribe_endpoint": self.gateway.websocket_url,
            # espeak-ng speaks a sentence in ~60 ms: the final caption would lead its
            # audio by that much, while a second fan-out per sentence delays every
            # segment (50 listeners: p50 ~0.6 → ~1.0 s, docs/local.md). Deployed, Polly
            # takes ~0.3 s and the caption goes first (``polycast:finalCaptionFirst``).
            "final_caption_first": 0,
        }
        settings = local_settings(**{**local, **dict(self.settings_overrides)})
        self.settings = settings
        self._transcribe = transcribe_route(
            LocalCredentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, settings.region),
            on_stream_end=self._recognized,
        )
        self._saved_env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(_function_env(settings, self.aws.endpoint_url, self.log_level))

        self.resources = create_resources(
            settings,
            endpoint_url=self.aws.endpoint_url,
            region=settings.region,
            shard_count=self.shard_count,
        )
        self.languages = discover_languages()
        quiet_metrics = self.log_level != "DEBUG"
        if quiet_metrics:
            warnings.filterwarnings("ignore", message="No application metrics to publish")
        for function in wiring.FUNCTIONS:
            self.runners[function.logical_id] = self._runner(function, settings, quiet_metrics)

        kw: dict[str, Any] = {"endpoint_url": self.aws.endpoint_url, "region_name": settings.region}
        self._s3 = boto3.client("s3", **kw)
        sqs = boto3.client("sqs", **kw)
        source = wiring.TRANSCRIPT_SOURCE
        self.poller = KinesisPoller(
            boto3.client("kinesis", **kw),
            sqs,
            stream_name=self.resources.stream_name,
            function=self.runners[source.function.logical_id],
            on_failure_queue_url=self.resources.queue_urls[source.on_failure.logical_id],
            region=settings.region,
            starting_position="TRIM_HORIZON",
            # Woken when moto accepts a PutRecord(s); the interval is only the fallback.
            poll_interval=1.0,
        )
        self.aws.observe(KINESIS_PUTS, self.poller.wake)
        for rule in wiring.RULES:
            assert rule.local_queue is not None
            url = self.resources.queue_urls[rule.local_queue.logical_id]
            if rule.target_function is not None:
                consume: Callable[[dict[str, Any]], Any] = self.runners[
                    rule.target_function.logical_id
                ].invoke
            elif self.state_dir is not None:
                self.state_dir.mkdir(parents=True, exist_ok=True)
                consume = EventLog(self.state_dir / "events.jsonl")
            else:

                def consume(event: dict[str, Any]) -> None:
                    return None

            self.drains.append(QueueDrain(sqs, url, consume, name=rule.logical_id))
        self.poller.start()
        for drain in self.drains:
            drain.start()
        for schedule in wiring.SCHEDULES:
            timer = ScheduleTimer(
                schedule, self.runners[schedule.function.logical_id].invoke, region=settings.region
            )
            timer.start()
            self.timers.append(timer)

        self.endpoints = RuntimeEndpoints(
            aws_endpoint=self.aws.endpoint_url,
            region=settings.region,
            transcript_stream=self.resources.stream_name,
            event_bus=self.resources.bus_name,
            websocket_url=self.gateway.websocket_url,
            listener_page=self.gateway.public_http_url + "/",
            languages=self.languages,
            lan=self.public_host is not None,
            management_endpoint=self.gateway.management_url,
        )
        if self.transcripts is not None:
            self._transcripts = self.transcripts(self.endpoints)
        self._ready = True
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            if self.lock is not None:
                self.lock.describe(awsPort=self.aws.port, wsPort=self.gateway.port)
            path = self.state_dir / STATE_FILE
            path.write_text(json.dumps(self.endpoints.to_json(), indent=2) + "\n")
        log.info("local runtime ready: %s", self.endpoints.to_json())

    def _runner(
        self, function: wiring.Function, settings: Settings, quiet_metrics: bool
    ) -> FunctionRunner | ContainerRunner:
        """A given handler or the function's own, in this process or in containers."""
        given = self.handlers.get(function.logical_id)
        if given is not None:
            return FunctionRunner(function, given, settings.region)
        if self.containers.get(function.logical_id, 0) > 0:
            return ContainerRunner(
                function,
                root=self.root,
                region=settings.region,
                containers=self.containers[function.logical_id],
                quiet_metrics=quiet_metrics,
            )
        module = load_module(function, self.root)
        handler = getattr(module, function.handler.rpartition(".")[2])
        reset = metrics_reset(module) if quiet_metrics else None
        return FunctionRunner(function, handler, settings.region, after_invoke=reset)

    def stop(self) -> None:
        """Stop everything started, in reverse; safe to call twice or after a failed start."""
        self._ready = False
        # Producers of work first, the gateway last: a drain finishes the event in hand
        # by posting to listeners, which is quick while the gateway still answers (and
        # slow, retried by the SDK, once it has gone).
        for timer in self.timers:
            timer.stop()
        self.timers.clear()
        if self.poller is not None:
            self.poller.stop()
            self.poller = None
        for drain in self.drains:
            drain.stop()
        self.drains.clear()
        for runner in self.runners.values():
            runner.close()
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        self.aws.stop()
        # Only the lock holder's file is removed: a refused second runtime never wrote
        # one, and must never delete the running one's.
        if self.state_dir is not None and self.endpoints is not None and self._holds_lock():
            path = self.state_dir / STATE_FILE
            try:
                if json.loads(path.read_text()) == self.endpoints.to_json():
                    path.unlink()
            except (OSError, ValueError):
                pass
        if self.lock is not None:
            self.lock.release()
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None

    def _holds_lock(self) -> bool:
        return self.lock is None or self.lock.held

    # -- gateway callbacks -------------------------------------------------------------

    def _invoke_route(self, event: dict[str, Any]) -> Any:
        """The route's function, as the wiring says (the session check: the handler's)."""
        route_key = (event.get("requestContext") or {}).get("routeKey") or event.get("routeKey")
        function = ROUTE_FUNCTIONS.get(str(route_key), wiring.CONNECTION_HANDLER)
        runner = self.runners.get(function.logical_id)
        if not self._ready or runner is None:
            return {
                "statusCode": 503,
                "body": json.dumps({"code": "STARTING", "message": "runtime is starting"}),
            }
        return runner.invoke(event)

    async def _transcribe_stream(self, request: web.Request) -> web.StreamResponse:
        if self._transcribe is None:
            return web.json_response({"code": "STARTING", "message": "starting"}, status=503)
        response: web.StreamResponse = await self._transcribe(request)
        return response

    def _recognized(self, recognizer: Recognizer) -> None:
        self.recognitions.append(
            (recognizer.audio_seconds, recognizer.cpu_seconds, recognizer.decode_seconds)
        )

    def _page_config(self) -> dict[str, Any]:
        assert self.gateway is not None
        return {
            "websocketUrl": self.gateway.websocket_url,
            "languages": list(getattr(self, "languages", DEFAULT_LANGUAGES)),
            "sourceLanguage": "en",
            "awsEndpoint": self.aws.endpoint_url,
            # The "session ended" panel's downloads (web/transcript-links.js).
            **({"exportUrl": "export"} if self.transcripts is not None else {}),
        }

    def _read_audio(self, key: str) -> bytes | None:
        assert self.settings is not None
        try:
            response = self._s3.get_object(Bucket=self.settings.audio_bucket, Key=key)
        except Exception:
            return None
        data: bytes = response["Body"].read()
        return data
