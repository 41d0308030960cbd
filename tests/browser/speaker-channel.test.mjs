// web/speaker-channel.js (sequences, acks, resends, transcribeUrl) and
// web/speaker-session.js (microphone → recognition → sentences) with a fake WebSocket,
// a fake microphone and a fake recognition stream, on Node's mocked timers.
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { SpeakerChannel, checkSpeaker, speakerUrl } from "../../web/speaker-channel.js";
import { SpeakingSession } from "../../web/speaker-session.js";
import { FakeSocket } from "./fake-socket.mjs";

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};
const last = () => FakeSocket.all[FakeSocket.all.length - 1];
const transcripts = (socket) => socket.sent.filter((m) => m.action === "transcript");

function memoryStore(initial = {}) {
  const data = { ...initial };
  return { data, get: (k) => data[k] ?? null, set: (k, v) => (data[k] = v) };
}

function channel(overrides = {}) {
  const states = [];
  const acks = [];
  const refused = [];
  const ch = new SpeakerChannel({
    url: "ws://127.0.0.1:1/?sessionId=s&role=speaker&speakerKey=k",
    sessionId: "s",
    onState: (state) => states.push(state),
    onAck: (n) => acks.push(n),
    onRefused: (n, e) => refused.push([n, e.code]),
    WebSocketImpl: FakeSocket,
    ...overrides,
  });
  return { ch, states, acks, refused };
}

const sentence = (text) => ({
  transcriptText: text,
  emotionDynamics: { emotion: "neutral", intensity: 0.5, rateWpm: 150, volumeLevel: "normal" },
  startMs: 10.4,
  endMs: 900.6,
});

beforeEach(() => {
  FakeSocket.all = [];
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
});
afterEach(() => mock.timers.reset());

test("speakerUrl carries the session, the role and the key", () => {
  const url = new URL(speakerUrl("ws://127.0.0.1:8080", "golden-eagle-427", "k&y"));
  assert.equal(url.searchParams.get("sessionId"), "golden-eagle-427");
  assert.equal(url.searchParams.get("role"), "speaker");
  assert.equal(url.searchParams.get("speakerKey"), "k&y");
});

test("sentences get increasing sequences and stay pending until acknowledged", async () => {
  const { ch, acks } = channel();
  ch.start();
  const first = last();
  first.accept();
  assert.equal(ch.sendTranscript(sentence("One.")), 1);
  assert.equal(ch.sendTranscript(sentence("Two.")), 2);
  assert.deepEqual(transcripts(first).map((m) => [m.sequence, m.transcriptText, m.startMs, m.endMs]), [
    [1, "One.", 10, 901],
    [2, "Two.", 10, 901],
  ]);
  first.say({ type: "ack", sequence: 1 });
  assert.deepEqual(acks, [1]);
  assert.equal(ch.pendingCount, 1);
  first.say({ type: "ack", sequence: 1 }); // a repeated ack changes nothing
  assert.deepEqual(acks, [1]);
});

test("after a dropped connection every unacknowledged sentence is resent, in order, once", async () => {
  const { ch, states } = channel();
  ch.start();
  last().accept();
  ch.sendTranscript(sentence("One."));
  ch.sendTranscript(sentence("Two."));
  last().say({ type: "ack", sequence: 1 });
  last().drop();
  await flush();
  assert.equal(states.at(-1), "reconnecting");
  ch.sendTranscript(sentence("Three, said while offline."));
  mock.timers.tick(1);
  await flush();
  const second = last();
  assert.notEqual(second, FakeSocket.all[0]);
  assert.equal(transcripts(second).length, 0, "nothing sent before the connection is open");
  second.accept();
  assert.deepEqual(transcripts(second).map((m) => m.sequence), [2, 3]);
  assert.equal(second.sent.some((m) => m.action === "catchUp"), false, "speakers do not catch up");
  second.say({ type: "ack", sequence: 2 });
  second.say({ type: "ack", sequence: 3 });
  assert.equal(ch.pendingCount, 0);
  assert.equal(ch.sendTranscript(sentence("Four.")), 4);
});

test("the count is remembered per session, so a reloaded page continues it", () => {
  const store = memoryStore();
  const first = channel({ store }).ch;
  first.sendTranscript(sentence("One."));
  first.sendTranscript(sentence("Two."));
  assert.equal(store.data["polycast.speaker.s.sequence"], "2");
  const again = channel({ store }).ch;
  assert.equal(again.nextSequence, 3);
  assert.equal(channel({ store: memoryStore({ "polycast.speaker.s.sequence": "x" }) }).ch.nextSequence, 1);
});

test("partials go out only while live and carry the sequence their final will have", () => {
  const { ch } = channel();
  assert.equal(ch.sendPartial({ text: "Our next", stableText: "Our" }), false);
  ch.start();
  last().accept();
  ch.sendTranscript(sentence("One."));
  assert.equal(ch.sendPartial({ text: "Our next", stableText: "Our" }), true);
  assert.deepEqual(last().sent.at(-1), { action: "partial", sequence: 2, text: "Our next", stableText: "Our" });
});

test("transcribeUrl resolves with the answer, rejects when offline or dropped", async () => {
  const { ch } = channel();
  await assert.rejects(ch.transcribeUrl({ languageCode: "en-US" }), { code: "NOT_CONNECTED" });
  ch.start();
  last().accept();
  const asked = ch.transcribeUrl({ languageCode: "en-US" });
  assert.deepEqual(last().sent.at(-1), { action: "transcribeUrl", languageCode: "en-US", sampleRate: 16000 });
  last().say({ type: "transcribeUrl", url: "wss://x/y", expiresIn: 300 });
  assert.deepEqual(await asked, { url: "wss://x/y", expiresIn: 300 });
  const dropped = ch.transcribeUrl({ languageCode: "en-US" });
  last().drop();
  await assert.rejects(dropped, { code: "NOT_CONNECTED" });
  ch.stop();
});

test("a refused transcript is dropped and reported; a transient error is retried", async () => {
  const { ch, refused } = channel();
  ch.start();
  const socket = last();
  socket.accept();
  ch.sendTranscript(sentence("Too long."));
  ch.sendTranscript(sentence("Busy."));
  socket.say({ type: "error", code: "TRANSCRIPT_TOO_LONG", message: "too long", sequence: 1 });
  socket.say({ type: "error", code: "THROTTLED", message: "slow down", sequence: 2 });
  assert.deepEqual(refused, [[1, "TRANSCRIPT_TOO_LONG"]]);
  assert.equal(ch.pendingCount, 1);
  mock.timers.tick(2000);
  assert.deepEqual(transcripts(socket).map((m) => m.sequence), [1, 2, 2]);
  ch.stop();
});

test("checkSpeaker asks the session check as the speaker", async () => {
  const asked = [];
  const fetch = async (url) => {
    asked.push(String(url));
    return {
      ok: false,
      status: 403,
      headers: { get: () => "application/json" },
      json: async () => ({ code: "SPEAKER_KEY_INVALID", message: "wrong key" }),
    };
  };
  const check = await checkSpeaker({}, { sessionId: "a b", speakerKey: "k" }, { fetch, base: "http://127.0.0.1/speaker.html" });
  assert.deepEqual(check, { ok: false, code: "SPEAKER_KEY_INVALID", message: "wrong key" });
  assert.equal(asked[0], "http://127.0.0.1/sessions/a%20b?role=speaker&speakerKey=k");
  const html = async () => ({ ok: true, headers: { get: () => "text/html" } });
  assert.deepEqual(await checkSpeaker({}, { sessionId: "a", speakerKey: "k" }, { fetch: html, base: "http://x/" }), { ok: null });
  assert.deepEqual(await checkSpeaker({ sessionCheckUrl: null }, { sessionId: "a", speakerKey: "k" }), { ok: null });
});

// ------------------------------------------------------------------ the session

function talk({ micError = null } = {}) {
  const calls = [];
  const view = new Proxy({}, { get: (_, name) => (...args) => calls.push([name, ...args]) });
  let mic = null;
  const streams = [];
  const { ch } = channel();
  let clock = 0;
  const session = new SpeakingSession({
    channel: ch,
    languageCode: "en-US",
    view,
    now: () => clock,
    microphone: (handlers) => {
      mic = {
        ...handlers,
        running: false,
        async start() {
          if (micError) throw Object.assign(new Error("no"), { name: micError });
          this.running = true;
        },
        stop() {
          this.running = false;
        },
      };
      return mic;
    },
    recognition: (handlers) => {
      const stream = {
        ...handlers,
        audio: [],
        isOpen: false,
        ended: false,
        async open() {
          this.isOpen = true;
        },
        sendAudio(pcm) {
          if (!this.isOpen || this.ended) return false;
          this.audio.push(pcm.length);
          return true;
        },
        end() {
          this.ended = true;
        },
        close() {
          this.isOpen = false;
        },
      };
      streams.push(stream);
      return stream;
    },
  });
  return { session, ch, calls, streams, mic: () => mic, tick: (ms) => (clock += ms) };
}

const chunk = () => new Int16Array(1600).fill(3000);
const final = (words, offset = 0) => ({
  IsPartial: false,
  Alternatives: [{
    Transcript: words.join(" "),
    Items: words.map((w, i) => ({ Type: "pronunciation", Content: w, StartTime: offset + i * 0.4, EndTime: offset + i * 0.4 + 0.35 })),
  }],
});

test("Start: microphone, then a recognition URL, audio queued meanwhile and sent first", async () => {
  const t = talk();
  t.ch.start();
  last().accept();
  await t.session.start();
  t.mic().onChunk(chunk());
  t.mic().onChunk(chunk());
  assert.deepEqual(last().sent.at(-1), { action: "transcribeUrl", languageCode: "en-US", sampleRate: 16000 });
  last().say({ type: "transcribeUrl", url: "ws://127.0.0.1:2/stream-transcription-websocket", expiresIn: 300 });
  await flush();
  assert.equal(t.streams[0].url, "ws://127.0.0.1:2/stream-transcription-websocket");
  assert.deepEqual(t.streams[0].audio, [1600, 1600], "the queued audio, in order");
  t.mic().onChunk(chunk());
  assert.equal(t.streams[0].audio.length, 3);
  t.streams[0].onResult({ IsPartial: true, Alternatives: [{ Transcript: "Hello every", Items: [{ Type: "pronunciation", Content: "Hello", StartTime: 0, EndTime: 0.3, Stable: true }] }] });
  assert.deepEqual(last().sent.at(-1), { action: "partial", sequence: 1, text: "Hello every", stableText: "Hello" });
  t.streams[0].onResult(final(["Hello", "everyone", "here", "today."]));
  const sent = transcripts(last());
  assert.equal(sent.length, 1);
  assert.equal(sent[0].sequence, 1);
  assert.equal(sent[0].transcriptText, "Hello everyone here today.");
  assert.deepEqual([sent[0].startMs, sent[0].endMs], [0, 1550]);
  assert.deepEqual(sent[0].emotionDynamics, { emotion: "neutral", intensity: 0.5, rateWpm: 155, volumeLevel: "normal" });
  assert.ok(t.calls.some(([name, arg]) => name === "sentence" && arg.sequence === 1));
});

test("a denied microphone is shown and nothing is asked of the server", async () => {
  const t = talk({ micError: "NotAllowedError" });
  t.ch.start();
  last().accept();
  await t.session.start();
  const problem = t.calls.find(([name]) => name === "microphoneProblem");
  assert.equal(problem[1].name, "NotAllowedError");
  assert.equal(last().sent.some((m) => m.action === "transcribeUrl"), false);
  assert.equal(t.session.talking, false);
});

test("a recognition stream that fails is reopened; the new stream's times start where it began", async () => {
  const t = talk();
  t.ch.start();
  last().accept();
  await t.session.start();
  last().say({ type: "transcribeUrl", url: "ws://a", expiresIn: 300 });
  await flush();
  for (let i = 0; i < 20; i++) t.mic().onChunk(chunk()); // 2 s of audio
  t.streams[0].onException({ code: "BadRequestException", message: "no" });
  t.streams[0].onClose({ clean: false, code: 1008 });
  assert.ok(t.calls.some(([name]) => name === "recognitionProblem"));
  t.mic().onChunk(chunk()); // queued while reopening
  mock.timers.tick(500);
  await flush();
  last().say({ type: "transcribeUrl", url: "ws://b", expiresIn: 300 });
  await flush();
  assert.equal(t.streams[1].url, "ws://b");
  assert.deepEqual(t.streams[1].audio, [1600]);
  t.streams[1].onResult(final(["After", "the", "gap."]));
  assert.equal(transcripts(last()).at(-1).startMs, 2000, "offset by the audio before the new stream");
});

test("Stop ends the stream (finals still count); end() stops for good", async () => {
  const t = talk();
  t.ch.start();
  last().accept();
  await t.session.start();
  last().say({ type: "transcribeUrl", url: "ws://a", expiresIn: 300 });
  await flush();
  t.session.stop();
  assert.equal(t.streams[0].ended, true);
  assert.equal(t.mic().running, false);
  t.streams[0].onResult(final(["Last", "words."]));
  assert.equal(transcripts(last()).length, 1);
  t.session.end("organizer ended it");
  assert.ok(t.calls.some(([name, reason]) => name === "ended" && reason === "organizer ended it"));
  await t.session.start();
  assert.equal(t.mic().running, false, "no restart after the end");
});
