// Recognizer results → the speaker's sentences and how each was said. Pure: no DOM,
// no network; the caller passes the clock.
//
// The same rules as the Python client's (`polycast.domain.utterances`, `delivery`,
// `partial_pacing`), so the page and `polycast speak` send the same records:
//
// - a final is cut into sentences after `. ? ! …`, at a pause of 600 ms or more, and
//   never runs past 15 s (an over-long run is cut after a comma, else at its longest
//   pause);
// - `rateWpm` = words ÷ the time they span (two words and 0.5 s at least, else 150),
//   clamped to 40–400;
// - `volumeLevel` = the sentence's RMS loudness against the speaker's running level
//   (an exponential average; the first sentence sets it and is `normal`):
//   Δ < −9 dB x-soft, < −3 soft, < +3 normal, < +9 loud, else x-loud;
// - arousal = ½·clamp(Δ dB / 12) + ½·clamp((rateWpm − 150) / 75), in [−1, 1]:
//   ≥ 0.4 excited; ≤ −0.5 and soft or x-soft sad; ≤ −0.3 calm; else neutral;
//   intensity = 0.5 + |arousal| / 2 (neutral: 0.5) — see docs/emotion-ssml.md;
// - a partial goes out at most every 0.5 s, and only when its stable prefix grew.

export const PAUSE_MS = 600;
export const MAX_SENTENCE_MS = 15_000;
export const BASE_WPM = 150;
const MIN_RATE_WPM = 40;
const MAX_RATE_WPM = 400;
const SENTENCE_END = /[.?!…]/;
const CLAUSE_END = /[,;:]/;

const ms = (seconds) => Math.round(Number(seconds) * 1000);

/** The words of a Transcribe result (first alternative), punctuation attached. */
export function wordsFromResult(result) {
  const items = result?.Alternatives?.[0]?.Items;
  if (!Array.isArray(items)) return [];
  const words = [];
  for (const item of items) {
    const content = String(item?.Content ?? "").trim();
    if (!content) continue;
    if (item.Type === "punctuation") {
      if (words.length) words[words.length - 1].punctuation += content;
      continue;
    }
    const startMs = ms(item.StartTime);
    const endMs = ms(item.EndTime);
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) continue;
    words.push({ text: content, startMs, endMs: Math.max(startMs, endMs), punctuation: "" });
  }
  return words;
}

/** The leading run of items the recognizer marked `Stable`, as text. */
export function stableText(result) {
  const items = result?.Alternatives?.[0]?.Items;
  if (!Array.isArray(items)) return "";
  let text = "";
  for (const item of items) {
    if (item?.Stable !== true) break;
    const content = String(item.Content ?? "").trim();
    if (!content) continue;
    text += item.Type === "punctuation" || !text ? content : ` ${content}`;
  }
  return text;
}

export const sentenceText = (words) => words.map((w) => w.text + w.punctuation).join(" ");

/** Words per minute over the time they span; null when too few words to tell. */
export function rateWpm(words) {
  if (words.length < 2) return null;
  const span = words[words.length - 1].endMs - words[0].startMs;
  if (span < 500) return null;
  const wpm = Math.round((words.length * 60_000) / span);
  return Math.max(MIN_RATE_WPM, Math.min(MAX_RATE_WPM, wpm));
}

function bestCut(words) {
  let best = words.length - 1;
  let bestScore = [-1, -1];
  for (let i = 1; i < words.length; i++) {
    const score = [
      CLAUSE_END.test(words[i - 1].punctuation) ? 1 : 0,
      words[i].startMs - words[i - 1].endMs,
    ];
    const notWorse =
      score[0] > bestScore[0] || (score[0] === bestScore[0] && score[1] >= bestScore[1]);
    if (notWorse) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

/** Sentences (arrays of words) in order; together they hold every word once. */
export function splitSentences(words, { pauseMs = PAUSE_MS, maxMs = MAX_SENTENCE_MS } = {}) {
  const sentences = [];
  let current = [];
  for (const word of words) {
    if (current.length && word.startMs - current[current.length - 1].endMs >= pauseMs) {
      sentences.push(current);
      current = [];
    }
    current.push(word);
    while (current.length > 1 && current[current.length - 1].endMs - current[0].startMs > maxMs) {
      const cut = bestCut(current);
      sentences.push(current.slice(0, cut));
      current = current.slice(cut);
    }
    if (SENTENCE_END.test(word.punctuation)) {
      sentences.push(current);
      current = [];
    }
  }
  if (current.length) sentences.push(current);
  return sentences;
}

/**
 * A final result as sentences `{text, startMs, endMs, rateWpm}`, times shifted by
 * `offsetMs` (where this recognition stream began on the talk's clock). A result
 * without word timings is one sentence spanning the result.
 */
export function finalSentences(result, offsetMs = 0) {
  const words = wordsFromResult(result);
  if (!words.length) {
    const text = String(result?.Alternatives?.[0]?.Transcript ?? "").trim();
    if (!text) return [];
    const startMs = offsetMs + (ms(result.StartTime) || 0);
    const endMs = offsetMs + (ms(result.EndTime) || 0);
    return [{ text, startMs, endMs: Math.max(startMs, endMs), rateWpm: null }];
  }
  return splitSentences(words).map((sentence) => ({
    text: sentenceText(sentence),
    startMs: offsetMs + sentence[0].startMs,
    endMs: offsetMs + sentence[sentence.length - 1].endMs,
    rateWpm: rateWpm(sentence),
  }));
}

// ------------------------------------------------------------------ loudness

export const VOLUME_STEPS = [
  [-9, "x-soft"],
  [-3, "soft"],
  [3, "normal"],
  [9, "loud"],
];
const LOUDEST = "x-loud";
const LEVEL_SMOOTHING = 0.25;
const SILENCE_DBFS = -90;
const FULL_SCALE_SQUARED = 32768 * 32768;

/** Σ s² and count of 16-bit samples (for RMS over any span of chunks). */
export function sumSquares(int16) {
  let sum = 0;
  for (let i = 0; i < int16.length; i++) sum += int16[i] * int16[i];
  return sum;
}

export function dbfs(sum, count) {
  if (!count || !sum) return -Infinity;
  return 10 * Math.log10(sum / count / FULL_SCALE_SQUARED);
}

/** The energy of each captured chunk on the talk's clock, so a sentence's RMS can be read. */
export class LoudnessTrack {
  constructor({ keepMs = 120_000 } = {}) {
    this.keepMs = keepMs;
    this.chunks = []; // {startMs, endMs, sum, count}
  }

  add(startMs, int16, sampleRate = 16000) {
    const endMs = startMs + (int16.length * 1000) / sampleRate;
    this.chunks.push({ startMs, endMs, sum: sumSquares(int16), count: int16.length });
    const horizon = endMs - this.keepMs;
    while (this.chunks.length && this.chunks[0].endMs < horizon) this.chunks.shift();
  }

  /** RMS in dBFS over the chunks that overlap [startMs, endMs), weighted by overlap. */
  dbfs(startMs, endMs) {
    let sum = 0;
    let count = 0;
    for (const chunk of this.chunks) {
      const overlap = Math.min(endMs, chunk.endMs) - Math.max(startMs, chunk.startMs);
      if (overlap <= 0) continue;
      const share = overlap / (chunk.endMs - chunk.startMs);
      sum += chunk.sum * share;
      count += chunk.count * share;
    }
    return dbfs(sum, count);
  }
}

export function volumeBucket(deltaDb) {
  for (const [bound, name] of VOLUME_STEPS) if (deltaDb < bound) return name;
  return LOUDEST;
}

/** The speaker's running level: `judge` classifies a sentence, then learns it. */
export class SpeakerLevel {
  constructor(smoothing = LEVEL_SMOOTHING) {
    this.smoothing = smoothing;
    this.levelDb = null;
  }

  judge(level) {
    if (!(level >= SILENCE_DBFS)) return { volumeLevel: "x-soft", deltaDb: -Infinity };
    if (this.levelDb === null) {
      this.levelDb = level;
      return { volumeLevel: "normal", deltaDb: 0 };
    }
    const deltaDb = level - this.levelDb;
    this.levelDb += this.smoothing * deltaDb;
    return { volumeLevel: volumeBucket(deltaDb), deltaDb };
  }
}

const clamp = (value) => Math.max(-1, Math.min(1, value));

export function arousal(deltaDb, wpm) {
  const loudness = Number.isFinite(deltaDb) ? clamp(deltaDb / 12) : -1;
  return (loudness + clamp((wpm - BASE_WPM) / 75)) / 2;
}

export function emotionFor(deltaDb, wpm, volumeLevel) {
  const value = arousal(deltaDb, wpm);
  const intensity = Math.round((0.5 + Math.abs(value) / 2) * 100) / 100;
  if (value >= 0.4) return { emotion: "excited", intensity };
  if (value <= -0.5 && (volumeLevel === "soft" || volumeLevel === "x-soft")) {
    return { emotion: "sad", intensity };
  }
  if (value <= -0.3) return { emotion: "calm", intensity };
  return { emotion: "neutral", intensity: 0.5 };
}

/** One speaker's meter: a sentence's loudness and rate in, its `emotionDynamics` out. */
export class DeliveryMeter {
  constructor() {
    this.level = new SpeakerLevel();
  }

  measure(level, wpm) {
    const { volumeLevel, deltaDb } = this.level.judge(level);
    const rate = wpm ?? BASE_WPM;
    const { emotion, intensity } = emotionFor(deltaDb, rate, volumeLevel);
    return { emotion, intensity, rateWpm: rate, volumeLevel };
  }
}

// ------------------------------------------------------------------ partials

export const MIN_PARTIAL_INTERVAL_MS = 500;

/** Which live captions go out: at most one per 0.5 s, only when the stable prefix grew. */
export class PartialPacer {
  constructor(minIntervalMs = MIN_PARTIAL_INTERVAL_MS) {
    this.minIntervalMs = minIntervalMs;
    this.sequence = null;
    this.sentWords = 0;
    this.sentAt = null;
  }

  offer(sequence, stable, nowMs) {
    if (sequence !== this.sequence) {
      this.sequence = sequence;
      this.sentWords = 0;
    }
    const words = stable.split(/\s+/).filter(Boolean).length;
    if (words <= this.sentWords) return false;
    if (this.sentAt !== null && nowMs - this.sentAt < this.minIntervalMs) return false;
    this.sentWords = words;
    this.sentAt = nowMs;
    return true;
  }
}
