"""A scripted stand-in for the local gateway, for page behaviour the real pipeline
cannot produce on demand: out-of-order and duplicate delivery, audio in parts, a gap
that never fills, a backlog, join codes, and a deployment without the session check.

It speaks the same contract as ``polycast_kit.local.gateway``: the page at ``/``,
``/config.json``, ``GET /sessions/{id}`` (the session check, with the same order of
checks: the language before the session, the session's source language admitted once
it is found), the WebSocket upgrade at ``/`` refused with a status and a
``{"code","message"}`` body, the ``ping``, ``catchUp``, ``pause``, ``resume`` and
``switchLanguage`` actions, and ``DELETE /@connections/{id}``.

With a ``speaker`` (``scripted_speaker.ScriptedSpeaker``) it also serves the speaker
page's side: ``role=speaker`` connections, the speaker's session check and a scripted
Transcribe streaming endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from scripted_speaker import TRANSCRIBE_PATH, ScriptedSpeaker

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"


def tone_mp3(seconds: float = 1.0, hz: float = 440.0) -> bytes:
    """A short sine tone as MP3 (lameenc), so the browser has real audio to play."""
    import lameenc

    rate = 22050
    count = int(rate * seconds)
    pcm = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * n / rate))) for n in range(count)
    )
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(32)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(pcm) + encoder.flush())


@dataclass
class Session:
    session_id: str
    join_code: str | None = None
    source_language: str = "en"
    ended: bool = False
    log: list[list[dict[str, Any]]] = field(default_factory=list)  # frames per segment


@dataclass
class ScriptedGateway:
    languages: tuple[str, ...] = ("es", "ca", "fr")
    session_check: bool = True
    config_ok: bool = True  # False: config.json answers 500 (the page cannot start)
    sessions: dict[str, Session] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    connects: int = 0
    speaker: ScriptedSpeaker | None = None  # the speaker page's side, when a test wants it
    # The gateway's real ``/export`` route (``polycast_kit.local.gateway.export``), when a
    # test gives one (config.json then names it, as the runtime's does).
    export: Any = None

    def __post_init__(self) -> None:
        self.port = 0
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        if self.speaker is not None:
            self.speaker.gateway = self

    # -- lifecycle ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> ScriptedGateway:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def serve() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._dispatch)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve())
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="scripted-gateway")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("scripted gateway did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            for ws in list(self._sockets.values()):
                await ws.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def _call(self, coro: Any) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # -- what a test does -------------------------------------------------------------

    def add_session(self, session_id: str, join_code: str | None = None) -> Session:
        session = Session(session_id, join_code)
        self.sessions[session_id] = session
        return session

    def segment_frames(
        self,
        session_id: str,
        sequence: int,
        *,
        language: str = "es",
        audio: bytes | None = None,
        parts: int = 1,
    ) -> list[dict[str, Any]]:
        base = {
            "type": "segment",
            "sessionId": session_id,
            "sequence": sequence,
            "language": language,
            "text": f"Frase número {sequence}.",
            "sourceText": f"Sentence number {sequence}.",
        }
        if audio is None:
            return [{**base, "audio": None}]
        if parts == 1:
            data = base64.b64encode(audio).decode()
            return [{**base, "audio": {"format": "mp3", "encoding": "base64", "data": data}}]
        size = math.ceil(len(audio) / parts)
        return [
            {
                **base,
                "audio": {
                    "format": "mp3",
                    "encoding": "base64",
                    "data": base64.b64encode(audio[i * size : (i + 1) * size]).decode(),
                },
                "part": i + 1,
                "parts": parts,
            }
            for i in range(parts)
        ]

    def partial_frame(
        self, session_id: str, sequence: int, text: str, *, language: str = "es"
    ) -> dict[str, Any]:
        """A live caption of the sentence being spoken (replaced in place by the page)."""
        return {
            "type": "partial",
            "sessionId": session_id,
            "sequence": sequence,
            "language": language,
            "text": text,
        }

    def record(self, session_id: str, frames: list[dict[str, Any]]) -> None:
        """Keep a segment for catchUp without sending it (it was 'lost' in transit)."""
        self.sessions[session_id].log.append(frames)

    def send(self, frames: Iterable[dict[str, Any]]) -> None:
        """Send frames, as they are, to every open connection."""
        self._call(self._send_all([json.dumps(frame) for frame in frames]))

    def publish(self, session_id: str, frames: list[dict[str, Any]]) -> None:
        self.record(session_id, frames)
        self.send(frames)

    def end(self, session_id: str) -> None:
        self.sessions[session_id].ended = True
        self.send([{"type": "sessionEnded", "sessionId": session_id, "reason": "speaker left"}])

    def drop_connections(self) -> int:
        """Close every connection from the server side (like DELETE /@connections)."""
        return int(self._call(self._drop_all()))

    def open_connections(self) -> int:
        return len(self._sockets)

    # -- server side --------------------------------------------------------------------

    async def _send_all(self, texts: list[str]) -> None:
        for ws in list(self._sockets.values()):
            for text in texts:
                await ws.send_str(text)

    async def _drop_all(self) -> int:
        sockets = list(self._sockets.values())
        for ws in sockets:
            await ws.close(message=b"closed by server")
        return len(sockets)

    def _refusal(self, params: Any) -> tuple[int, dict[str, str]] | None:
        session_id = params.get("sessionId")
        language = params.get("targetLanguage")
        if not session_id:
            return 400, {"code": "MISSING_FIELD", "message": "missing required field: sessionId"}
        if not language:
            return 400, {
                "code": "MISSING_FIELD",
                "message": "missing required field: targetLanguage",
            }
        session = self.sessions.get(session_id)
        source = session.source_language if session else None
        if language not in self.languages and language != source:
            return 400, {"code": "UNSUPPORTED_LANGUAGE", "message": f"unsupported {language!r}"}
        if session is None:
            return 404, {"code": "SESSION_NOT_FOUND", "message": f"no session {session_id!r}"}
        if session.ended:
            return 404, {"code": "SESSION_ENDED", "message": f"session {session_id!r} has ended"}
        if session.join_code:
            given = params.get("joinCode")
            if not given:
                return 401, {
                    "code": "JOIN_CODE_REQUIRED",
                    "message": "this session needs a join code",
                }
            if given != session.join_code:
                return 403, {"code": "JOIN_CODE_INVALID", "message": "wrong join code"}
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if "@connections" in path and request.method == "DELETE":
            ws = self._sockets.get(path.rsplit("/", 1)[-1])
            if ws is None:
                return web.json_response({"message": "Gone"}, status=410)
            await ws.close()
            return web.Response(status=204)
        if self.speaker is not None and path == TRANSCRIBE_PATH:
            return await self.speaker.transcribe(request)
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if self.speaker is not None and request.query.get("role") == "speaker":
                session = self.sessions.get(request.query.get("sessionId", ""))
                return await self.speaker.connect(request, session)
            return await self._connect(request)
        if path == "/export" and self.export is not None:
            return await self.export.serve(request)
        if path == "/config.json":
            if not self.config_ok:
                return web.Response(status=500, text="Internal Server Error")
            return web.json_response(
                {
                    "websocketUrl": f"ws://127.0.0.1:{self.port}",
                    "languages": list(self.languages),
                    "sourceLanguage": "en",
                    **({"exportUrl": "export"} if self.export is not None else {}),
                }
            )
        if path.startswith("/sessions/") and self.session_check:
            params = dict(request.query)
            params["sessionId"] = path[len("/sessions/") :]
            if self.speaker is not None and params.get("role") == "speaker":
                session = self.sessions.get(params["sessionId"])
                refusal = self.speaker.refusal(session, params)
            else:
                refusal = self._refusal(params)
            if refusal:
                return web.json_response(refusal[1], status=refusal[0])
            return web.json_response({"ok": True})
        relative = path.lstrip("/") or "index.html"
        target = (WEB_ROOT / relative).resolve()
        if target.is_relative_to(WEB_ROOT) and target.is_file():
            return web.FileResponse(target)
        return web.Response(status=404, text="Not Found")

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        refusal = self._refusal(request.query)
        if refusal:
            return web.json_response(refusal[1], status=refusal[0])
        session = self.sessions[request.query["sessionId"]]
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connects += 1
        connection_id = f"conn{self.connects}"
        self._sockets[connection_id] = ws
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                body = json.loads(message.data)
                self.actions.append(body)
                action = body.get("action")
                if action == "ping":
                    await ws.send_str(json.dumps({"type": "pong"}))
                elif action in ("pause", "resume"):
                    await ws.send_str(json.dumps({"type": "ack", "action": action}))
                elif action == "switchLanguage":
                    wanted = body.get("targetLanguage")
                    if wanted in self.languages or wanted == session.source_language:
                        answer = {"type": "ack", "action": action, "targetLanguage": wanted}
                    else:
                        answer = {"type": "error", "code": "UNSUPPORTED_LANGUAGE"}
                    await ws.send_str(json.dumps(answer))
                elif action == "catchUp":
                    after = int(body["fromSequence"])
                    later = [f for f in session.log if f[0]["sequence"] > after]
                    for frames in later:
                        for frame in frames:
                            await ws.send_str(json.dumps(frame))
                    await ws.send_str(
                        json.dumps(
                            {
                                "type": "ack",
                                "action": "catchUp",
                                "fromSequence": after,
                                "resent": len(later),
                            }
                        )
                    )
        finally:
            self._sockets.pop(connection_id, None)
        return ws
