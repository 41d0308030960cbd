// Ordering rules for the segments a listener receives: pure, no DOM, no timers.
//
// The WebSocket delivers segments at least once and not always in order (EventBridge
// does not order, a catch-up resends what may already have arrived, large audio comes
// in parts). These three small classes turn that into "each sentence once, in order,
// without a backlog":
//
//   PartAssembler  parts of one segment's audio  -> one whole segment
//   SegmentOrder   whole segments in any order   -> released in sequence order, each once;
//                                                  a gap is skipped after `gapTimeoutMs`
//   PlaybackQueue  released segments with audio  -> at most `maxSeconds` waiting; beyond
//                                                  that the oldest is dropped (catching up)
//
// Time is always passed in (`now`, in milliseconds), so the rules are easy to test.

/** Decode standard base64 into bytes. */
export function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function concatBytes(chunks) {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** A segment message's audio as the page plays it: bytes, a URL, or null. */
function wholeAudio(audio, bytes) {
  if (!audio) return null;
  if (typeof audio.url === "string") return { format: audio.format || "mp3", url: audio.url };
  return { format: audio.format || "mp3", bytes };
}

function segmentFrom(message, audio) {
  return {
    sequence: message.sequence,
    language: message.language,
    text: typeof message.text === "string" ? message.text : "",
    sourceText: typeof message.sourceText === "string" ? message.sourceText : "",
    audio,
  };
}

/**
 * Joins the parts of a segment (`part` 1..`parts`, each `audio.data` the base64 of a
 * slice of the MP3) into one segment; a part received twice counts once.
 */
export class PartAssembler {
  constructor({ maxPending = 64 } = {}) {
    this.maxPending = maxPending;
    this.pending = new Map(); // sequence -> { parts, chunks: Map(part -> bytes), first }
  }

  /** Returns the whole segment once every part is in, else null. */
  add(message) {
    const parts = Number.isInteger(message.parts) ? message.parts : 1;
    const audio = message.audio;
    if (parts <= 1 || !audio || typeof audio.data !== "string") {
      const bytes = audio && typeof audio.data === "string" ? base64ToBytes(audio.data) : null;
      return segmentFrom(message, wholeAudio(audio, bytes));
    }
    const sequence = message.sequence;
    let entry = this.pending.get(sequence);
    if (!entry) {
      entry = { parts, chunks: new Map(), first: message };
      this.pending.set(sequence, entry);
      this.#trim();
    }
    const part = message.part;
    if (!Number.isInteger(part) || part < 1 || part > entry.parts || entry.chunks.has(part)) {
      return null;
    }
    entry.chunks.set(part, base64ToBytes(audio.data));
    if (entry.chunks.size < entry.parts) return null;
    this.pending.delete(sequence);
    const ordered = [];
    for (let n = 1; n <= entry.parts; n += 1) ordered.push(entry.chunks.get(n));
    return segmentFrom(entry.first, wholeAudio(audio, concatBytes(ordered)));
  }

  /** Forget incomplete segments at or below `sequence` (they were skipped). */
  discardThrough(sequence) {
    for (const key of [...this.pending.keys()]) {
      if (key <= sequence) this.pending.delete(key);
    }
  }

  #trim() {
    while (this.pending.size > this.maxPending) {
      const oldest = Math.min(...this.pending.keys());
      this.pending.delete(oldest);
    }
  }
}

/**
 * Releases segments in sequence order, each sequence at most once.
 *
 * The first segment seen sets where the listener starts. A segment after a gap is
 * held; when the gap is still open `gapTimeoutMs` after it opened, the order skips
 * to the lowest held sequence. A segment that arrives after its place was skipped
 * is returned as `late` (its caption can still be shown; its audio is not played).
 */
export class SegmentOrder {
  constructor({ gapTimeoutMs = 3000, maxHeld = 200, memory = 2000 } = {}) {
    this.gapTimeoutMs = gapTimeoutMs;
    this.maxHeld = maxHeld;
    this.memory = memory;
    this.next = null; // the sequence to release next
    this.held = new Map(); // sequence -> segment, all > next
    this.seen = new Set(); // sequences released or shown late: never again
    this.gapSince = null; // when the current gap opened
    this.waitUntilTime = 0; // no skipping before this time (a catch-up is on its way)
  }

  /** The last sequence released, or null before the first: what `catchUp` resumes after. */
  get lastReleased() {
    return this.next === null ? null : this.next - 1;
  }

  /** Take one segment; returns `{ released: [...], late: segment|null, duplicate }`. */
  accept(segment, now) {
    const sequence = segment.sequence;
    const result = { released: [], late: null, duplicate: false };
    if (!Number.isInteger(sequence) || sequence < 0) {
      result.duplicate = true;
      return result;
    }
    if (this.seen.has(sequence) || this.held.has(sequence)) {
      result.duplicate = true;
      return result;
    }
    if (this.next === null) this.next = sequence;
    if (sequence < this.next) {
      this.#remember(sequence);
      result.late = segment;
      return result;
    }
    this.held.set(sequence, segment);
    result.released = this.#drain(now);
    if (this.held.size > this.maxHeld) result.released.push(...this.#skipGap(now));
    return result;
  }

  /** Skip a gap that has waited long enough; returns the segments released by it. */
  tick(now) {
    const deadline = this.deadline();
    if (deadline === null || now < deadline) return [];
    return this.#skipGap(now);
  }

  /** When `tick` will next have something to do, or null. */
  deadline() {
    if (this.gapSince === null) return null;
    return Math.max(this.gapSince + this.gapTimeoutMs, this.waitUntilTime);
  }

  /**
   * Start again from whatever comes next (after a resume or a language switch): the
   * next segment is released at once, whatever its sequence; anything already
   * released stays a duplicate.
   */
  liveEdge() {
    for (const sequence of this.held.keys()) this.#remember(sequence);
    this.held.clear();
    this.next = null;
    this.gapSince = null;
  }

  /** Hold gaps open until `time` (e.g. while a catch-up answer is on its way). */
  waitUntil(time) {
    this.waitUntilTime = time;
  }

  #skipGap(now) {
    if (this.held.size === 0) return [];
    this.next = Math.min(...this.held.keys());
    this.gapSince = null;
    return this.#drain(now);
  }

  #drain(now) {
    const released = [];
    while (this.held.has(this.next)) {
      released.push(this.held.get(this.next));
      this.held.delete(this.next);
      this.#remember(this.next);
      this.next += 1;
    }
    if (this.held.size === 0) this.gapSince = null;
    else if (released.length > 0 || this.gapSince === null) this.gapSince = now;
    return released;
  }

  #remember(sequence) {
    this.seen.add(sequence);
    if (this.seen.size > this.memory) {
      // Sets iterate in insertion order, which is (almost) ascending here.
      const oldest = this.seen.values().next().value;
      this.seen.delete(oldest);
    }
  }
}

const MP3_BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MP3_BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MP3_RATES_V1 = [44100, 48000, 32000];

/** Duration of MPEG Layer III audio in seconds, from its frame headers (0 if none). */
export function mp3Seconds(bytes) {
  let offset = 0;
  if (bytes.length > 10 && bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33) {
    // ID3v2 tag: 10-byte header, then a "syncsafe" size (7 bits per byte).
    const size = (bytes[6] << 21) | (bytes[7] << 14) | (bytes[8] << 7) | bytes[9];
    offset = 10 + size;
  }
  let seconds = 0;
  while (offset + 4 <= bytes.length) {
    const b1 = bytes[offset + 1];
    const b2 = bytes[offset + 2];
    const version = (b1 >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    const layer = (b1 >> 1) & 3; // 1: Layer III
    const bitrateIndex = b2 >> 4;
    const rateIndex = (b2 >> 2) & 3;
    const valid =
      bytes[offset] === 0xff &&
      (b1 & 0xe0) === 0xe0 &&
      version !== 1 &&
      layer === 1 &&
      bitrateIndex > 0 &&
      bitrateIndex < 15 &&
      rateIndex < 3;
    if (!valid) {
      offset += 1;
      continue;
    }
    const mpeg1 = version === 3;
    const bitrate = (mpeg1 ? MP3_BITRATES_V1 : MP3_BITRATES_V2)[bitrateIndex] * 1000;
    const divisor = mpeg1 ? 1 : version === 2 ? 2 : 4;
    const sampleRate = MP3_RATES_V1[rateIndex] / divisor;
    const padding = (b2 >> 1) & 1;
    const frameBytes = Math.floor(((mpeg1 ? 144 : 72) * bitrate) / sampleRate) + padding;
    seconds += (mpeg1 ? 1152 : 576) / sampleRate;
    offset += Math.max(frameBytes, 1);
  }
  return seconds;
}

/** How long a segment's audio will play, in seconds: from the MP3 when we have it. */
export function audioSeconds(segment) {
  const audio = segment.audio;
  if (audio && audio.bytes) {
    const measured = mp3Seconds(audio.bytes);
    if (measured > 0) return measured;
  }
  // By reference (or unreadable): about 14 characters of speech per second.
  return Math.max(1, (segment.text || "").length / 14);
}

/**
 * The segments waiting to be played. At most `maxSeconds` of audio waits; when more
 * arrives, the oldest waiting segments are dropped and `catchingUp` is set until the
 * queue is down to half of that again.
 */
export class PlaybackQueue {
  constructor({ maxSeconds = 10 } = {}) {
    this.maxSeconds = maxSeconds;
    this.items = []; // { segment, seconds }
    this.catchingUp = false;
  }

  get seconds() {
    return this.items.reduce((sum, item) => sum + item.seconds, 0);
  }

  get length() {
    return this.items.length;
  }

  /** Queue a segment; returns the segments dropped to stay under `maxSeconds`. */
  push(segment, seconds = audioSeconds(segment)) {
    this.items.push({ segment, seconds });
    const dropped = [];
    while (this.items.length > 1 && this.seconds > this.maxSeconds) {
      dropped.push(this.items.shift().segment);
    }
    if (dropped.length > 0) this.catchingUp = true;
    return dropped;
  }

  /** The next segment to play, or undefined. */
  shift() {
    const item = this.items.shift();
    if (this.seconds <= this.maxSeconds / 2) this.catchingUp = false;
    return item ? item.segment : undefined;
  }

  /** Empty the queue; returns what was waiting. */
  clear() {
    const waiting = this.items.map((item) => item.segment);
    this.items = [];
    this.catchingUp = false;
    return waiting;
  }
}
