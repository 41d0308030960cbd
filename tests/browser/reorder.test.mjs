// Unit tests for web/reorder.js (pure rules), run by Node's own test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  PartAssembler,
  PlaybackQueue,
  SegmentOrder,
  audioSeconds,
  mp3Seconds,
} from "../../web/reorder.js";

const seg = (sequence, extra = {}) => ({ sequence, text: `s${sequence}`, audio: null, ...extra });
const seqs = (segments) => segments.map((s) => s.sequence);

test("in-order segments are released at once", () => {
  const order = new SegmentOrder();
  assert.deepEqual(seqs(order.accept(seg(5), 0).released), [5]);
  assert.deepEqual(seqs(order.accept(seg(6), 1).released), [6]);
  assert.equal(order.lastReleased, 6);
  assert.equal(order.deadline(), null);
});

test("a segment after a gap waits for the gap to fill", () => {
  const order = new SegmentOrder({ gapTimeoutMs: 3000 });
  order.accept(seg(1), 0);
  assert.deepEqual(seqs(order.accept(seg(3), 10).released), []);
  assert.deepEqual(seqs(order.accept(seg(4), 20).released), []);
  assert.equal(order.deadline(), 3010);
  assert.deepEqual(seqs(order.accept(seg(2), 100).released), [2, 3, 4]);
  assert.equal(order.deadline(), null);
});

test("a gap still open after the timeout is skipped; the late one is shown, not replayed", () => {
  const order = new SegmentOrder({ gapTimeoutMs: 3000 });
  order.accept(seg(1), 0);
  order.accept(seg(3), 1000);
  assert.deepEqual(order.tick(3999), []);
  assert.deepEqual(seqs(order.tick(4000)), [3]);
  const late = order.accept(seg(2), 5000);
  assert.equal(late.late.sequence, 2);
  assert.deepEqual(late.released, []);
  assert.equal(order.accept(seg(2), 5001).duplicate, true);
});

test("the same sequence is never released twice", () => {
  const order = new SegmentOrder();
  order.accept(seg(1), 0);
  order.accept(seg(3), 0); // held
  assert.equal(order.accept(seg(1), 1).duplicate, true);
  assert.equal(order.accept(seg(3), 1).duplicate, true);
  const all = [...seqs(order.accept(seg(2), 2).released)];
  for (const n of [1, 2, 3]) assert.equal(order.accept(seg(n), 3).duplicate, true);
  assert.deepEqual(all, [2, 3]);
});

test("liveEdge releases the next segment at once, whatever its sequence", () => {
  const order = new SegmentOrder({ gapTimeoutMs: 3000 });
  order.accept(seg(1), 0);
  order.accept(seg(3), 10); // held behind the gap at 2
  order.liveEdge(); // resumed (or switched language): start from what comes next
  assert.equal(order.deadline(), null);
  assert.deepEqual(seqs(order.accept(seg(7), 20).released), [7]);
  assert.deepEqual(seqs(order.accept(seg(8), 30).released), [8]);
  assert.equal(order.accept(seg(1), 40).duplicate, true); // released before: never again
  assert.equal(order.accept(seg(3), 50).duplicate, true); // dropped at the live edge
});

test("a catch-up holds gaps open until its answer (waitUntil)", () => {
  const order = new SegmentOrder({ gapTimeoutMs: 3000 });
  order.accept(seg(1), 0);
  order.waitUntil(10_000);
  order.accept(seg(5), 0);
  assert.equal(order.deadline(), 10_000);
  assert.deepEqual(order.tick(5000), []);
  order.waitUntil(0);
  assert.deepEqual(seqs(order.tick(5000)), [5]);
});

test("parts are joined in part order, duplicates ignored", () => {
  const assembler = new PartAssembler();
  const b64 = (bytes) => Buffer.from(bytes).toString("base64");
  const part = (n, bytes) => ({
    type: "segment",
    sequence: 7,
    language: "es",
    text: "hola",
    sourceText: "hello",
    part: n,
    parts: 3,
    audio: { format: "mp3", encoding: "base64", data: b64(bytes) },
  });
  assert.equal(assembler.add(part(2, [3, 4])), null);
  assert.equal(assembler.add(part(2, [9, 9])), null);
  assert.equal(assembler.add(part(1, [1, 2])), null);
  const whole = assembler.add(part(3, [5]));
  assert.deepEqual([...whole.audio.bytes], [1, 2, 3, 4, 5]);
  assert.equal(whole.text, "hola");
  assert.equal(whole.sourceText, "hello");
});

test("whole, referenced and missing audio", () => {
  const assembler = new PartAssembler();
  const base = { type: "segment", sequence: 1, language: "es", text: "t", sourceText: "s" };
  const inline = assembler.add({ ...base, audio: { format: "mp3", encoding: "base64", data: "AQID" } });
  assert.deepEqual([...inline.audio.bytes], [1, 2, 3]);
  const ref = assembler.add({ ...base, audio: { format: "mp3", url: "https://x/y.mp3" } });
  assert.equal(ref.audio.url, "https://x/y.mp3");
  assert.equal(assembler.add({ ...base, audio: null }).audio, null);
});

test("at most maxSeconds wait: the oldest is dropped and catching up shows", () => {
  const queue = new PlaybackQueue({ maxSeconds: 10 });
  assert.deepEqual(queue.push(seg(1), 4), []);
  assert.deepEqual(queue.push(seg(2), 4), []);
  assert.equal(queue.catchingUp, false);
  assert.deepEqual(seqs(queue.push(seg(3), 4)), [1]);
  assert.equal(queue.catchingUp, true);
  assert.equal(queue.shift().sequence, 2);
  assert.equal(queue.catchingUp, false); // 4 s left, under half
  assert.equal(queue.shift().sequence, 3);
  assert.equal(queue.shift(), undefined);
});

test("one long segment is kept even when over the limit", () => {
  const queue = new PlaybackQueue({ maxSeconds: 10 });
  assert.deepEqual(queue.push(seg(1), 25), []);
  assert.equal(queue.length, 1);
});

test("mp3Seconds reads MPEG-1 Layer III frame headers", () => {
  // 128 kbps, 44.1 kHz, no padding: 417-byte frames of 1152 samples.
  const frame = new Uint8Array(417);
  frame.set([0xff, 0xfb, 0x90, 0x00]);
  const frames = 38;
  const bytes = new Uint8Array(417 * frames);
  for (let i = 0; i < frames; i += 1) bytes.set(frame, i * 417);
  assert.ok(Math.abs(mp3Seconds(bytes) - (frames * 1152) / 44100) < 1e-9);
  assert.equal(mp3Seconds(new Uint8Array([1, 2, 3, 4, 5])), 0);
  assert.equal(audioSeconds({ text: "x".repeat(28), audio: { bytes: new Uint8Array(3) } }), 2);
});
