// web/speaker-sentences.js (sentences, rate, loudness, emotion, partial pacing) and the
// worklet's resampler (web/pcm-worklet.js) under Node.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CHUNK_SAMPLES, Downsampler, mixDown } from "../../web/pcm-worklet.js";
import {
  DeliveryMeter,
  LoudnessTrack,
  PartialPacer,
  SpeakerLevel,
  emotionFor,
  finalSentences,
  rateWpm,
  splitSentences,
  stableText,
  volumeBucket,
  wordsFromResult,
} from "../../web/speaker-sentences.js";

/** A Transcribe result from [word, start s, end s, stable?] and punctuation strings. */
function result(items, { partial = false } = {}) {
  const list = items.map((item) =>
    typeof item === "string"
      ? { Type: "punctuation", Content: item, StartTime: 0, EndTime: 0, Stable: !partial }
      : {
          Type: "pronunciation",
          Content: item[0],
          StartTime: item[1],
          EndTime: item[2],
          ...(partial ? { Stable: Boolean(item[3]) } : {}),
        },
  );
  const transcript = list.map((i) => i.Content).join(" ").replace(/ ([.,?!])/g, "$1");
  return { IsPartial: partial, StartTime: 0, EndTime: 9, Alternatives: [{ Transcript: transcript, Items: list }] };
}

test("words carry their punctuation and times in ms", () => {
  const words = wordsFromResult(result([["Hello", 0.1, 0.4], ",", ["world", 0.5, 0.9], "."]));
  assert.deepEqual(words, [
    { text: "Hello", startMs: 100, endMs: 400, punctuation: "," },
    { text: "world", startMs: 500, endMs: 900, punctuation: "." },
  ]);
});

test("a final is cut after sentence marks and at long pauses", () => {
  const r = result([
    ["One", 0, 0.3], ["two", 0.35, 0.6], ".",
    ["Three", 0.8, 1.0], ["four", 1.05, 1.3],
    ["five", 2.0, 2.3], ["six", 2.35, 2.6], "?",
  ]);
  const sentences = finalSentences(r, 10_000);
  assert.deepEqual(sentences.map((s) => s.text), ["One two.", "Three four", "five six?"]);
  assert.deepEqual(sentences.map((s) => [s.startMs, s.endMs]), [[10_000, 10_600], [10_800, 11_300], [12_000, 12_600]]);
});

test("a run-on longer than 15 s is cut after a comma, else at its longest pause", () => {
  const words = [];
  for (let i = 0; i < 40; i++) {
    const start = i * 0.5 + (i === 12 ? 0.3 : 0);
    words.push([`w${i}`, start, start + 0.4]);
    if (i === 20) words.push(",");
  }
  const sentences = splitSentences(wordsFromResult(result(words)));
  assert.ok(sentences.length >= 2);
  for (const s of sentences) assert.ok(s[s.length - 1].endMs - s[0].startMs <= 15_000);
  assert.equal(sentences[0][sentences[0].length - 1].text, "w20", "cut after the comma");
  assert.equal(sentences.flat().length, 40, "every word once");
  const noComma = splitSentences(wordsFromResult(result(words.filter((w) => w !== ","))));
  assert.equal(noComma[0][noComma[0].length - 1].text, "w11", "cut at the longest pause");
});

test("a final without items is one sentence", () => {
  const sentences = finalSentences({ IsPartial: false, StartTime: 1, EndTime: 2, Alternatives: [{ Transcript: "Hi there." }] }, 500);
  assert.deepEqual(sentences, [{ text: "Hi there.", startMs: 1500, endMs: 2500, rateWpm: null }]);
  assert.deepEqual(finalSentences({ IsPartial: false, Alternatives: [{ Transcript: " " }] }), []);
});

test("rateWpm from the words' timings, clamped, null when too few", () => {
  const words = (n, span) => Array.from({ length: n }, (_, i) => ({ startMs: (i * span) / n, endMs: ((i + 1) * span) / n }));
  assert.equal(rateWpm(words(10, 4000)), 150);
  assert.equal(rateWpm(words(1, 4000)), null);
  assert.equal(rateWpm(words(2, 400)), null);
  assert.equal(rateWpm(words(40, 1000)), 400);
  assert.equal(rateWpm(words(2, 60_000)), 40);
});

test("stable text is the leading run of stable items", () => {
  const r = result([["Our", 0, 0.2, true], ["next", 0.3, 0.5, true], ["speaker", 0.6, 0.9, false], ["is", 1, 1.1, true]], { partial: true });
  assert.equal(stableText(r), "Our next");
  assert.equal(stableText({ Alternatives: [{}] }), "");
});

test("volume: the first sentence is normal, then Δ dB against the running level", () => {
  const level = new SpeakerLevel();
  assert.deepEqual(level.judge(-30), { volumeLevel: "normal", deltaDb: 0 });
  assert.equal(level.judge(-20).volumeLevel, "x-loud");
  assert.equal(level.levelDb, -27.5, "a quarter of the way to the new sentence");
  assert.equal(level.judge(-Infinity).volumeLevel, "x-soft");
  assert.equal(level.levelDb, -27.5, "silence does not move the level");
  assert.deepEqual([-10, -9, -4, 0, 3, 8.9, 9].map(volumeBucket), ["x-soft", "soft", "soft", "normal", "loud", "loud", "x-loud"]);
});

test("emotion and intensity follow the arousal rule", () => {
  assert.deepEqual(emotionFor(0, 150, "normal"), { emotion: "neutral", intensity: 0.5 });
  assert.deepEqual(emotionFor(12, 225, "x-loud"), { emotion: "excited", intensity: 1 });
  assert.deepEqual(emotionFor(-3, 120, "soft"), { emotion: "calm", intensity: 0.66 });
  assert.deepEqual(emotionFor(-12, 75, "x-soft"), { emotion: "sad", intensity: 1 });
  assert.deepEqual(emotionFor(-12, 75, "normal"), { emotion: "calm", intensity: 1 });
  const meter = new DeliveryMeter();
  assert.deepEqual(meter.measure(-30, null), { emotion: "neutral", intensity: 0.5, rateWpm: 150, volumeLevel: "normal" });
});

test("loudness is read over the chunks a sentence spans", () => {
  const track = new LoudnessTrack();
  const tone = (amplitude) => Int16Array.from({ length: 1600 }, (_, i) => (i % 2 ? amplitude : -amplitude));
  track.add(0, tone(1000));
  track.add(100, tone(10000));
  track.add(200, tone(10000));
  assert.ok(Math.abs(track.dbfs(100, 300) - 20 * Math.log10(10000 / 32768)) < 1e-9);
  assert.ok(track.dbfs(0, 100) < track.dbfs(0, 300));
  assert.equal(track.dbfs(500, 600), -Infinity);
});

test("partials: at most one per 0.5 s, only when the stable prefix grew, afresh per sentence", () => {
  const pacer = new PartialPacer();
  assert.equal(pacer.offer(1, "Our", 0), true);
  assert.equal(pacer.offer(1, "Our next", 200), false, "too soon");
  assert.equal(pacer.offer(1, "Our", 800), false, "no growth");
  assert.equal(pacer.offer(1, "Our next", 800), true);
  assert.equal(pacer.offer(2, "And", 900), false, "a new sentence still waits its turn");
  assert.equal(pacer.offer(2, "And", 1300), true);
});

function sine(rate, hz, seconds, amplitude = 0.5) {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
}

function rms(samples) {
  return Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
}

for (const rate of [48000, 44100, 16000]) {
  test(`${rate} Hz → 16 kHz: the right number of samples, a 440 Hz tone kept, blocks stitched`, () => {
    const down = new Downsampler(rate);
    const input = sine(rate, 440, 1);
    const out = [];
    for (let i = 0; i < input.length; i += 128) out.push(...down.push(input.subarray(i, i + 128)));
    assert.ok(Math.abs(out.length - 16000) <= 2, `${out.length} samples`);
    const expected = 0.5 * 32767 / Math.SQRT2;
    const steady = out.slice(800);
    assert.ok(Math.abs(rms(steady) - expected) / expected < 0.03, `rms ${rms(steady)}`);
    // continuity: no jump between samples larger than the tone's own slope allows
    const maxStep = 0.5 * 32767 * 2 * Math.PI * 440 / 16000 * 1.1;
    for (let i = 801; i < out.length; i++) assert.ok(Math.abs(out[i] - out[i - 1]) <= maxStep);
  });
}

test("the low-pass keeps a 12 kHz tone from folding back at 48 kHz", () => {
  const down = new Downsampler(48000);
  const out = down.push(sine(48000, 12000, 0.5));
  assert.ok(rms(Array.from(out.slice(400))) < 0.05 * 0.5 * 32767 / Math.SQRT2);
});

test("full scale clamps, channels mix down, a chunk is 100 ms", () => {
  const out = new Downsampler(16000).push(Float32Array.from([0, 2, -2, 1, -1])); // the first sample is the one before the block
  assert.deepEqual([...out], [0, 0, 32767, -32768, 32767, -32768]);
  assert.deepEqual([...mixDown([Float32Array.from([1, 0]), Float32Array.from([0, 1])])], [0.5, 0.5]);
  assert.equal(CHUNK_SAMPLES, 1600);
});
