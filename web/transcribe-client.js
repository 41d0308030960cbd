// One Amazon Transcribe streaming session over its WebSocket protocol, from a
// presigned URL (the speaker handler signs it; the page holds no AWS credentials).
// Deployed, the URL is Amazon Transcribe's; locally, the runtime's own endpoint, which
// speaks the same protocol. Only the URL differs.
//
// Out: `AudioEvent` frames (16 kHz mono signed 16-bit little-endian PCM); an empty one
// ends the stream. In: `TranscriptEvent` frames, whose JSON is
// `{"Transcript": {"Results": [{ResultId, StartTime, EndTime, IsPartial,
//   Alternatives: [{Transcript, Items: [{StartTime, EndTime, Type, Content, Stable}]}]}]}}`,
// and `exception` frames (`:exception-type`, `{"Message": …}`), after which the
// service closes the stream.

import { FrameError, audioEvent, decodeFrame, payloadJson } from "./transcribe-eventstream.js";

/** The results a `TranscriptEvent` frame carries (an empty list for anything else). */
export function transcriptResults(frame) {
  if (frame.headers[":message-type"] !== "event") return [];
  if (frame.headers[":event-type"] !== "TranscriptEvent") return [];
  const body = payloadJson(frame);
  const results = body?.Transcript?.Results;
  return Array.isArray(results) ? results : [];
}

/** An exception frame as `{code, message}`, or null for an event. */
export function frameException(frame) {
  const kind = frame.headers[":message-type"];
  if (kind !== "exception" && kind !== "error") return null;
  const code = frame.headers[":exception-type"] || frame.headers[":error-code"] || "Exception";
  let message = frame.headers[":error-message"] || "";
  try {
    const body = payloadJson(frame);
    if (body && typeof body.Message === "string") message = body.Message;
    else if (body && typeof body.message === "string") message = body.message;
  } catch {
    // a payload that is not JSON: keep the header's words
  }
  return { code: String(code), message: String(message) };
}

export class TranscribeStream {
  /**
   * @param {object} options
   * @param {string} options.url  the presigned wss:// (or local ws://) URL
   * @param {(result: object) => void} options.onResult   every result, in order
   * @param {(error: {code: string, message: string}) => void} options.onException
   * @param {(info: {clean: boolean, code: number}) => void} options.onClose
   */
  constructor({ url, onResult, onException, onClose, WebSocketImpl = globalThis.WebSocket }) {
    this.url = url;
    this.onResult = onResult;
    this.onException = onException;
    this.onClose = onClose;
    this.WebSocketImpl = WebSocketImpl;
    this.socket = null;
    this.bytesSent = 0;
    this.ending = false;
    this.failed = false;
  }

  /** Resolves once the stream is open; rejects if it never opens. */
  open() {
    return new Promise((resolve, reject) => {
      let opened = false;
      const socket = new this.WebSocketImpl(this.url);
      socket.binaryType = "arraybuffer";
      this.socket = socket;
      socket.addEventListener("open", () => {
        opened = true;
        resolve();
      });
      socket.addEventListener("message", (event) => this.#receive(event.data));
      socket.addEventListener("close", (event) => {
        this.socket = null;
        if (!opened) {
          reject(new Error(`the recognition stream did not open (close ${event.code})`));
          return;
        }
        this.onClose({ clean: this.ending && !this.failed, code: event.code });
      });
    });
  }

  get isOpen() {
    return Boolean(this.socket) && this.socket.readyState === 1;
  }

  /** Send one chunk of PCM (Int16Array or bytes). False when the stream is not open. */
  sendAudio(pcm) {
    if (!this.isOpen || this.ending) return false;
    const frame = audioEvent(pcm);
    this.socket.send(frame);
    this.bytesSent += frame.length;
    return true;
  }

  /** No more audio: the service sends the last results, then closes. */
  end() {
    if (!this.isOpen || this.ending) return;
    this.socket.send(audioEvent(new Uint8Array(0)));
    this.ending = true;
  }

  /** Close at once (results still in flight are lost). */
  close() {
    this.ending = true;
    if (this.socket && this.socket.readyState <= 1) this.socket.close(1000, "speaker stopped");
  }

  #receive(data) {
    if (typeof data === "string") {
      this.#fail({ code: "BadResponse", message: "the recognition service sent text, not a frame" });
      return;
    }
    let frame;
    try {
      frame = decodeFrame(data);
    } catch (error) {
      const detail = error instanceof FrameError ? error.message : "unreadable frame";
      this.#fail({ code: "BadResponse", message: detail });
      return;
    }
    const exception = frameException(frame);
    if (exception) {
      this.#fail(exception);
      return;
    }
    let results;
    try {
      results = transcriptResults(frame);
    } catch {
      this.#fail({ code: "BadResponse", message: "a transcript event that is not JSON" });
      return;
    }
    for (const result of results) this.onResult(result);
  }

  #fail(error) {
    this.failed = true;
    this.onException(error);
  }
}
