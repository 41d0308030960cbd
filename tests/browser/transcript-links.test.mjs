// The transcript downloads' pure parts under Node: where the export endpoint is
// (config.exportUrl, the default beside the page, none), and when the transcript is
// offered (a JSON 200; a 409 asked again; a static host's HTML or a refusal: not).
import assert from "node:assert/strict";
import { test } from "node:test";

import { exportLink, transcriptOffered } from "../../web/transcript-links.js";

const BASE = "http://127.0.0.1:8080/";
const REQUEST = { sessionId: "calm-owl-111", language: "es" };

function answering(...answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url: String(url), headers: init.headers });
    const [status, type] = answers.shift();
    return { ok: status === 200, status, headers: { get: () => type } };
  };
  return { fetch, calls, base: BASE, wait: async () => {} };
}

const LOCAL = { exportUrl: "export" }; // what the local gateway's config.json says

test("the export link is where config names it; without one there is none", () => {
  const link = exportLink(LOCAL, { ...REQUEST, format: "srt" }, BASE);
  assert.equal(String(link), `${BASE}export?sessionId=calm-owl-111&language=es&format=srt`);
  const there = exportLink({ exportUrl: "https://x.example/t" }, { ...REQUEST, format: "vtt" }, BASE);
  assert.equal(there.origin, "https://x.example");
  assert.equal(exportLink({ exportUrl: null }, { ...REQUEST, format: "txt" }, BASE), null);
  assert.equal(exportLink({}, { ...REQUEST, format: "txt" }, BASE), null);
});

test("a JSON answer offers the transcript; the code goes in a header, not the URL", async () => {
  const io = answering([200, "application/json; charset=utf-8"]);
  assert.equal(await transcriptOffered(LOCAL, { ...REQUEST, joinCode: "harbor-7" }, io), true);
  assert.equal(io.calls.length, 1);
  assert.ok(!io.calls[0].url.includes("harbor-7"));
  assert.equal(io.calls[0].headers["X-Join-Code"], "harbor-7");
  assert.ok(io.calls[0].url.includes("format=json"));
});

test("not ended yet is asked again; a static host's page or a refusal is no", async () => {
  const later = answering([409, "application/json"], [200, "application/json"]);
  assert.equal(await transcriptOffered(LOCAL, REQUEST, later), true);
  assert.equal(later.calls.length, 2);
  assert.equal(await transcriptOffered(LOCAL, REQUEST, answering([403, "application/xml"])), false);
  assert.equal(await transcriptOffered(LOCAL, REQUEST, answering([200, "text/html"])), false);
  const never = answering(...Array(4).fill([409, "application/json"]));
  assert.equal(await transcriptOffered(LOCAL, REQUEST, never), false);
  assert.equal(never.calls.length, 4);
  const none = answering();
  assert.equal(await transcriptOffered({ exportUrl: null }, REQUEST, none), false);
  assert.equal(await transcriptOffered({}, REQUEST, none), false);
  assert.equal(none.calls.length, 0);
});
