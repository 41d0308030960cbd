// web/transcribe-eventstream.js against golden frames written by an independent Python
// encoder (tests/browser/eventstream_golden.py: struct + zlib.crc32), and the
// recognition client's frame handling (transcribe-client.js) with a fake WebSocket.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import {
  FrameError,
  audioEvent,
  crc32,
  decodeFrame,
  encodeFrame,
  payloadJson,
} from "../../web/transcribe-eventstream.js";
import { TranscribeStream, frameException, transcriptResults } from "../../web/transcribe-client.js";

const helper = fileURLToPath(new URL("./eventstream_golden.py", import.meta.url));
const run = spawnSync(process.env.PYTHON || "python3", [helper], { encoding: "utf8" });
assert.equal(run.status, 0, `the golden helper failed: ${run.stderr}`);
const GOLDEN = JSON.parse(run.stdout);
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const bytes = (text) => new Uint8Array(Buffer.from(text, "hex"));

test("crc32 is zlib's", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

for (const golden of GOLDEN) {
  test(`JS encodes the Python frame byte for byte: ${golden.name}`, () => {
    assert.equal(hex(encodeFrame(golden.headers, bytes(golden.payloadHex))), golden.frameHex);
  });

  test(`JS decodes the Python frame: ${golden.name}`, () => {
    const frame = decodeFrame(bytes(golden.frameHex));
    assert.deepEqual(frame.headers, Object.fromEntries(golden.headers));
    assert.equal(hex(frame.payload), golden.payloadHex);
  });
}

test("audioEvent is the golden AudioEvent, from an Int16Array too", () => {
  const golden = GOLDEN.find((g) => g.name === "audio");
  const samples = new Int16Array([0, 1, -1, 32767, -32768, 1000]); // little-endian hosts
  assert.equal(hex(audioEvent(samples)), golden.frameHex);
  assert.equal(hex(audioEvent(new Uint8Array(0))), GOLDEN.find((g) => g.name === "audio-end").frameHex);
});

test("a transcript event's JSON and an exception's message come through", () => {
  const transcript = decodeFrame(bytes(GOLDEN.find((g) => g.name === "transcript").frameHex));
  const [result] = transcriptResults(transcript);
  assert.equal(result.IsPartial, true);
  assert.equal(result.Alternatives[0].Transcript, "Un café, naïve – señor");
  assert.equal(frameException(transcript), null);
  const exception = decodeFrame(bytes(GOLDEN.find((g) => g.name === "exception").frameHex));
  assert.deepEqual(frameException(exception), {
    code: "BadRequestException",
    message: "sample-rate must be 16000",
  });
  assert.deepEqual(transcriptResults(exception), []);
});

test("corrupt, truncated and glued frames are refused", () => {
  const good = bytes(GOLDEN.find((g) => g.name === "audio").frameHex);
  const flipped = good.slice();
  flipped[flipped.length - 6] ^= 0xff; // payload byte: the message CRC no longer matches
  assert.throws(() => decodeFrame(flipped), /message CRC/);
  const prelude = good.slice();
  prelude[5] ^= 1;
  assert.throws(() => decodeFrame(prelude), /prelude CRC/);
  assert.throws(() => decodeFrame(good.slice(0, good.length - 1)), FrameError);
  const glued = new Uint8Array([...good, ...good]);
  assert.throws(() => decodeFrame(glued), /arrived/);
  assert.throws(() => decodeFrame(new Uint8Array(5)), /shorter/);
  assert.throws(() => decodeFrame(new TextEncoder().encode('{"not":"a frame"} padding!')), FrameError);
});

test("every header type decodes", () => {
  // name "b" bool true, "i" int32 -2, "t" timestamp, "u" uuid, "x" bytes
  const head = [
    1, 98, 0,
    1, 105, 4, 0xff, 0xff, 0xff, 0xfe,
    1, 116, 8, 0, 0, 1, 0x8c, 0, 0, 0, 0,
    1, 117, 9, ...new Array(16).fill(7),
    1, 120, 6, 0, 2, 1, 2,
  ];
  const total = 12 + head.length + 4;
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  view.setUint32(0, total);
  view.setUint32(4, head.length);
  view.setUint32(8, crc32(frame, 0, 8));
  frame.set(head, 12);
  view.setUint32(total - 4, crc32(frame, 0, total - 4));
  const { headers } = decodeFrame(frame);
  assert.equal(headers.b, true);
  assert.equal(headers.i, -2);
  assert.equal(headers.t, 0x18c00000000);
  assert.deepEqual([...headers.u], new Array(16).fill(7));
  assert.deepEqual([...headers.x], [1, 2]);
});

class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.listeners = {};
    FakeSocket.last = this;
  }
  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }
  emit(type, event = {}) {
    for (const fn of this.listeners[type] || []) fn(event);
  }
  send(data) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
    this.emit("close", { code: 1000 });
  }
}

test("TranscribeStream sends AudioEvents, ends with an empty one, reports results and exceptions", async () => {
  const results = [];
  const errors = [];
  const closes = [];
  const stream = new TranscribeStream({
    url: "ws://127.0.0.1:1/stream-transcription-websocket?x=1",
    onResult: (r) => results.push(r),
    onException: (e) => errors.push(e),
    onClose: (info) => closes.push(info),
    WebSocketImpl: FakeSocket,
  });
  const opened = stream.open();
  const socket = FakeSocket.last;
  assert.equal(socket.binaryType, "arraybuffer");
  socket.readyState = 1;
  socket.emit("open");
  await opened;
  assert.equal(stream.sendAudio(new Int16Array([1, 2, 3])), true);
  const sent = decodeFrame(socket.sent[0]);
  assert.equal(sent.headers[":event-type"], "AudioEvent");
  assert.equal(sent.payload.length, 6);
  const transcript = bytes(GOLDEN.find((g) => g.name === "transcript").frameHex);
  socket.emit("message", { data: transcript.buffer });
  assert.equal(results.length, 1);
  socket.emit("message", { data: "text is not a frame" });
  socket.emit("message", { data: bytes(GOLDEN.find((g) => g.name === "exception").frameHex).buffer });
  assert.deepEqual(errors.map((e) => e.code), ["BadResponse", "BadRequestException"]);
  stream.end();
  assert.equal(decodeFrame(socket.sent[1]).payload.length, 0);
  assert.equal(stream.sendAudio(new Int16Array([1])), false, "nothing after the end");
  socket.close();
  assert.deepEqual(closes, [{ clean: false, code: 1000 }], "an exception makes the close unclean");
});

test("TranscribeStream.open rejects when the stream never opens", async () => {
  const stream = new TranscribeStream({
    url: "ws://127.0.0.1:1/",
    onResult() {},
    onException() {},
    onClose() {},
    WebSocketImpl: FakeSocket,
  });
  const opened = stream.open();
  FakeSocket.last.emit("close", { code: 1006 });
  await assert.rejects(opened, /did not open/);
});

test("payloadJson reads UTF-8 JSON", () => {
  assert.deepEqual(payloadJson({ payload: new TextEncoder().encode('{"a":"é"}') }), { a: "é" });
});
