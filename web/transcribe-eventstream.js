// AWS event-stream framing, the binary messages of Amazon Transcribe's streaming
// WebSocket protocol (and of the local runtime's endpoint, which speaks the same one).
//
// A message, all integers big-endian:
//
//   total length (4) | headers length (4) | prelude CRC32 (4) | headers | payload | message CRC32 (4)
//
// The prelude CRC covers the first 8 bytes, the message CRC everything before it. A
// header is `name length (1) | name | type (1) | value`; Transcribe uses only strings
// (type 7: `length (2) | UTF-8`). The encoder writes strings only; the decoder reads
// every header type the format defines. Pure: no DOM, no network (Node tests it, and
// the Python encoder's frames are its golden vectors).

const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
const STRING = 7;
export const MAX_FRAME_BYTES = 16 * 1024 * 1024; // the format's own ceiling
const MAX_HEADER_VALUE_BYTES = 32767;

export class FrameError extends Error {
  constructor(message) {
    super(message);
    this.name = "FrameError";
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib.crc32), unsigned. */
export function crc32(bytes, start = 0, end = bytes.length) {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

function asBytes(payload) {
  if (payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) {
    return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  if (typeof payload === "string") return utf8.encode(payload);
  if (payload === undefined || payload === null) return new Uint8Array(0);
  throw new FrameError("payload must be bytes or a string");
}

/**
 * One message with string headers, in the order given.
 * @param {Record<string,string> | Array<[string,string]>} headers
 * @param {Uint8Array | ArrayBuffer | ArrayBufferView | string} payload
 * @returns {Uint8Array}
 */
export function encodeFrame(headers, payload) {
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  const parts = [];
  let headerBytes = 0;
  for (const [name, value] of entries) {
    const nameBytes = utf8.encode(name);
    const valueBytes = utf8.encode(String(value));
    if (nameBytes.length < 1 || nameBytes.length > 255) {
      throw new FrameError(`header name must be 1–255 bytes: ${name}`);
    }
    if (valueBytes.length > MAX_HEADER_VALUE_BYTES) throw new FrameError(`header ${name} too long`);
    parts.push([nameBytes, valueBytes]);
    headerBytes += 1 + nameBytes.length + 1 + 2 + valueBytes.length;
  }
  const body = asBytes(payload);
  const total = PRELUDE_BYTES + headerBytes + body.length + CRC_BYTES;
  if (total > MAX_FRAME_BYTES) throw new FrameError(`message of ${total} bytes is over the limit`);
  const frame = new Uint8Array(total);
  const view = new DataView(frame.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headerBytes);
  view.setUint32(8, crc32(frame, 0, 8));
  let at = PRELUDE_BYTES;
  for (const [nameBytes, valueBytes] of parts) {
    frame[at++] = nameBytes.length;
    frame.set(nameBytes, at);
    at += nameBytes.length;
    frame[at++] = STRING;
    view.setUint16(at, valueBytes.length);
    at += 2;
    frame.set(valueBytes, at);
    at += valueBytes.length;
  }
  frame.set(body, at);
  at += body.length;
  view.setUint32(at, crc32(frame, 0, at));
  return frame;
}

/** An `AudioEvent` carrying raw 16-bit PCM; an empty one ends the stream. */
export function audioEvent(pcm) {
  return encodeFrame(
    [
      [":message-type", "event"],
      [":event-type", "AudioEvent"],
      [":content-type", "application/octet-stream"],
    ],
    pcm,
  );
}

function readHeaders(bytes, view, start, end) {
  const headers = {};
  let at = start;
  const need = (count) => {
    if (at + count > end) throw new FrameError("a header runs past the headers section");
  };
  while (at < end) {
    need(1);
    const nameLength = bytes[at++];
    need(nameLength + 1);
    const name = fromUtf8.decode(bytes.subarray(at, at + nameLength));
    at += nameLength;
    const type = bytes[at++];
    let value;
    switch (type) {
      case 0:
        value = true;
        break;
      case 1:
        value = false;
        break;
      case 2:
        need(1);
        value = view.getInt8(at);
        at += 1;
        break;
      case 3:
        need(2);
        value = view.getInt16(at);
        at += 2;
        break;
      case 4:
        need(4);
        value = view.getInt32(at);
        at += 4;
        break;
      case 5:
      case 8: // timestamp: milliseconds since the epoch
        need(8);
        value = Number(view.getBigInt64(at));
        at += 8;
        break;
      case 6:
      case 7: {
        need(2);
        const length = view.getUint16(at);
        at += 2;
        need(length);
        const raw = bytes.slice(at, at + length);
        value = type === STRING ? fromUtf8.decode(raw) : raw;
        at += length;
        break;
      }
      case 9:
        need(16);
        value = bytes.slice(at, at + 16);
        at += 16;
        break;
      default:
        throw new FrameError(`unknown header type ${type}`);
    }
    headers[name] = value;
  }
  return headers;
}

/**
 * Exactly one message: lengths and both CRCs checked. Anything else (a truncated or
 * corrupt frame, two frames glued together) throws `FrameError`.
 * @returns {{headers: Record<string, any>, payload: Uint8Array}}
 */
export function decodeFrame(data) {
  const bytes = asBytes(data);
  if (bytes.length < PRELUDE_BYTES + CRC_BYTES) {
    throw new FrameError(`${bytes.length} bytes is shorter than an event-stream prelude`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = view.getUint32(0);
  const headerBytes = view.getUint32(4);
  if (view.getUint32(8) !== crc32(bytes, 0, 8)) throw new FrameError("prelude CRC mismatch");
  if (total !== bytes.length) {
    throw new FrameError(`frame says ${total} bytes but ${bytes.length} arrived`);
  }
  if (PRELUDE_BYTES + headerBytes + CRC_BYTES > total) {
    throw new FrameError("headers length runs past the frame");
  }
  if (view.getUint32(total - CRC_BYTES) !== crc32(bytes, 0, total - CRC_BYTES)) {
    throw new FrameError("message CRC mismatch");
  }
  let headers;
  try {
    headers = readHeaders(bytes, view, PRELUDE_BYTES, PRELUDE_BYTES + headerBytes);
  } catch (error) {
    if (error instanceof FrameError) throw error;
    throw new FrameError(`unreadable header: ${error.message}`);
  }
  const payload = bytes.slice(PRELUDE_BYTES + headerBytes, total - CRC_BYTES);
  return { headers, payload };
}

/** A decoded frame's payload as JSON (Transcribe's events and exceptions carry JSON). */
export function payloadJson(frame) {
  return JSON.parse(fromUtf8.decode(frame.payload));
}
