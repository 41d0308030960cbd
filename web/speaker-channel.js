// The speaker's WebSocket to the session: `<websocketUrl>?sessionId=…&role=speaker&speakerKey=…`.
//
// It numbers the speaker's sentences and makes sure each reaches the server once, in
// order, across dropped connections:
//
// - every transcript gets the next `sequence` (remembered per session in `store`, so a
//   reloaded page continues the count instead of starting again at 1);
// - a transcript stays pending until its `{"type":"ack","sequence":N}`; whenever a
//   connection becomes live, every pending transcript is sent again, in order (the
//   server acknowledges a sequence it already has without writing it twice);
// - partial captions go out only while live (a stale one is worth nothing);
// - `transcribeUrl` asks for a presigned recognition URL and waits for its answer.
//
// The socket itself (reconnect with backoff, ping against the idle limit) is
// `ListenerConnection` from connection.js. Pure of the DOM: Node tests it.

import { ListenerConnection } from "./connection.js";

const NEVER_MS = 2 ** 31 - 1; // no planned renewal: one speaker connection per session
const ANSWER_TIMEOUT_MS = 15_000;
const RETRY_CODES = new Set(["TRANSIENT", "THROTTLED", "INTERNAL_ERROR"]);
const RETRY_AFTER_MS = 2_000;

/** The speaker's connection URL. */
export function speakerUrl(websocketUrl, sessionId, speakerKey) {
  const url = new URL(websocketUrl);
  url.searchParams.set("sessionId", sessionId);
  url.searchParams.set("role", "speaker");
  url.searchParams.set("speakerKey", speakerKey);
  return url.toString();
}

export class SpeakerChannel {
  /**
   * @param {object} options
   * @param {string} options.url
   * @param {string} options.sessionId
   * @param {{get(key: string): string|null, set(key: string, value: string): void}} [options.store]
   * @param {(state: string, detail?: object) => void} options.onState
   *        "connecting" | "live" | "reconnecting" | "closed"
   * @param {(sequence: number) => void} [options.onAck]
   * @param {(sequence: number, error: {code: string, message: string}) => void} [options.onRefused]
   *        a transcript the server will not take (it is dropped, not resent)
   * @param {(message: object) => void} [options.onMessage]  anything else the server says
   * @param {(info: object) => Promise<boolean>} [options.shouldRetry]
   */
  constructor({
    url,
    sessionId,
    store = null,
    onState,
    onAck = () => {},
    onRefused = () => {},
    onMessage = () => {},
    shouldRetry = async () => true,
    WebSocketImpl = globalThis.WebSocket,
    pingEveryMs,
  }) {
    this.sessionId = sessionId;
    this.store = store;
    this.onAck = onAck;
    this.onRefused = onRefused;
    this.onMessage = onMessage;
    this.onStateOut = onState;
    this.lastSequence = this.#remembered();
    this.lastAcked = null;
    this.pending = new Map(); // sequence → message, in insertion (= sequence) order
    this.waiting = []; // {resolve, reject, timer} for transcribeUrl answers
    this.live = false;
    this.connection = new ListenerConnection({
      url,
      onMessage: (message) => this.#receive(message),
      onState: (state, detail) => this.#state(state, detail),
      resumeFrom: () => null,
      shouldRetry,
      renewAfterMs: NEVER_MS,
      WebSocketImpl,
      ...(pingEveryMs ? { pingEveryMs } : {}),
    });
  }

  get storeKey() {
    return `polycast.speaker.${this.sessionId}.sequence`;
  }

  #remembered() {
    const value = Number.parseInt(this.store?.get(this.storeKey) ?? "", 10);
    return Number.isInteger(value) && value >= 0 ? value : 0;
  }

  start() {
    this.connection.start();
  }

  stop() {
    this.connection.stop();
  }

  /** The sequence the next transcript will carry (partials of that sentence use it). */
  get nextSequence() {
    return this.lastSequence + 1;
  }

  /** Number, keep and (when live) send one sentence; returns its sequence. */
  sendTranscript({ transcriptText, emotionDynamics, startMs, endMs }) {
    const sequence = this.nextSequence;
    this.lastSequence = sequence;
    this.store?.set(this.storeKey, String(sequence));
    const message = { action: "transcript", sequence, transcriptText, emotionDynamics };
    if (Number.isFinite(startMs)) message.startMs = Math.max(0, Math.round(startMs));
    if (Number.isFinite(endMs)) message.endMs = Math.max(0, Math.round(endMs));
    this.pending.set(sequence, message);
    if (this.live) this.connection.send(message);
    return sequence;
  }

  /** A live caption of the sentence being spoken; dropped when not connected. */
  sendPartial({ text, stableText }) {
    if (!this.live) return false;
    return this.connection.send({ action: "partial", sequence: this.nextSequence, text, stableText });
  }

  /** Ask for a presigned recognition URL: resolves `{url, expiresIn}`. */
  transcribeUrl({ languageCode, sampleRate = 16000 }) {
    return new Promise((resolve, reject) => {
      if (!this.connection.send({ action: "transcribeUrl", languageCode, sampleRate })) {
        reject(Object.assign(new Error("not connected"), { code: "NOT_CONNECTED" }));
        return;
      }
      const entry = { resolve, reject, timer: null };
      entry.timer = setTimeout(() => {
        this.waiting = this.waiting.filter((e) => e !== entry);
        reject(Object.assign(new Error("no answer from the server"), { code: "TIMEOUT" }));
      }, ANSWER_TIMEOUT_MS);
      this.waiting.push(entry);
    });
  }

  get pendingCount() {
    return this.pending.size;
  }

  #state(state, detail) {
    this.live = state === "live";
    if (this.live) {
      for (const message of this.pending.values()) this.connection.send(message);
    } else {
      this.#rejectWaiting("NOT_CONNECTED", "the connection was lost");
    }
    this.onStateOut(state, detail);
  }

  #rejectWaiting(code, text) {
    const waiting = this.waiting;
    this.waiting = [];
    for (const entry of waiting) {
      clearTimeout(entry.timer);
      entry.reject(Object.assign(new Error(text), { code }));
    }
  }

  #receive(message) {
    if (message.type === "ack" && Number.isInteger(message.sequence)) {
      if (this.pending.delete(message.sequence)) {
        this.lastAcked = Math.max(this.lastAcked ?? 0, message.sequence);
        this.onAck(message.sequence);
      }
      return;
    }
    if (message.type === "transcribeUrl" && typeof message.url === "string") {
      const entry = this.waiting.shift();
      if (entry) {
        clearTimeout(entry.timer);
        entry.resolve({ url: message.url, expiresIn: message.expiresIn });
      }
      return;
    }
    if (message.type === "error" && Number.isInteger(message.sequence)) {
      this.#transcriptError(message);
      return;
    }
    if (message.type === "error" && this.waiting.length && message.action !== "partial") {
      const entry = this.waiting.shift();
      if (entry) {
        clearTimeout(entry.timer);
        entry.reject(Object.assign(new Error(message.message || message.code), message));
      }
      return;
    }
    if (message.type === "pong") return;
    this.onMessage(message);
  }

  #transcriptError(message) {
    const sent = this.pending.get(message.sequence);
    if (!sent) return;
    const error = { code: String(message.code || "ERROR"), message: String(message.message || "") };
    if (RETRY_CODES.has(error.code)) {
      setTimeout(() => {
        if (this.live && this.pending.has(message.sequence)) this.connection.send(sent);
      }, RETRY_AFTER_MS);
      return;
    }
    this.pending.delete(message.sequence);
    this.onRefused(message.sequence, error);
  }
}

/** Codes after which trying again cannot help until the speaker changes something. */
export const FINAL_SPEAKER_CODES = new Set([
  "MISSING_FIELD",
  "BAD_REQUEST",
  "SESSION_NOT_FOUND",
  "SESSION_ENDED",
  "SPEAKER_KEY_REQUIRED",
  "SPEAKER_KEY_INVALID",
  "FORBIDDEN",
]);

/**
 * Why the speaker connection would be refused (a browser cannot read a refused
 * upgrade): `GET <sessionCheckUrl>?role=speaker&speakerKey=…`, the same check the
 * listener page uses. `{ok: null}` when there is no such endpoint.
 */
export async function checkSpeaker(config, { sessionId, speakerKey }, io = {}) {
  const { fetch = globalThis.fetch, base = globalThis.document?.baseURI } = io;
  const template =
    config && "sessionCheckUrl" in config ? config.sessionCheckUrl : "sessions/{sessionId}";
  if (!template) return { ok: null };
  try {
    const url = new URL(template.replace("{sessionId}", encodeURIComponent(sessionId)), base);
    url.searchParams.set("role", "speaker");
    url.searchParams.set("speakerKey", speakerKey);
    const response = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
    if (!(response.headers.get("Content-Type") || "").includes("json")) return { ok: null };
    const body = await response.json();
    if (response.ok && body?.ok === true) return { ok: true };
    if (body && typeof body.code === "string") {
      return { ok: false, code: body.code, message: String(body.message || "") };
    }
  } catch {
    // no check here
  }
  return { ok: null };
}
