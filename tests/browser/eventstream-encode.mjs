// Encode event-stream frames with the page's JS encoder: reads golden cases (JSON:
// [{name, headers, payloadHex}]) on stdin, prints [{name, frameHex}] — so the Python
// test can hand JS-written frames to botocore's decoder.
import { encodeFrame } from "../../web/transcribe-eventstream.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const out = cases.map(({ name, headers, payloadHex }) => ({
  name,
  frameHex: Buffer.from(encodeFrame(headers, Buffer.from(payloadHex, "hex"))).toString("hex"),
}));
process.stdout.write(JSON.stringify(out));
