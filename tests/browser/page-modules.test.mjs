// Unit tests for the listener page's pure modules (no DOM), under Node's test runner:
// the words (strings.js), what is remembered (preferences.js), the session check and
// its refusal order (session-check.js), and the unlock sound (playback.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { silentWav } from "../../web/playback.js";
import { Preferences, offeredLanguages, pickLanguage } from "../../web/preferences.js";
import { FINAL_CODES, checkJoin, checkSession } from "../../web/session-check.js";
import {
  SAY,
  STATUS_WORDS,
  endedReason,
  endedText,
  errorDetail,
  languageName,
  refusalText,
} from "../../web/strings.js";

// ------------------------------------------------------------------ strings.js

test("a language is named in its own language, then in the browser's", () => {
  assert.equal(languageName("es", "en"), "español (Spanish)");
  assert.equal(languageName("en", "en"), "English");
  assert.equal(languageName("fr", "de"), "français (Französisch)");
});

test("an unknown or malformed code is shown as it is", () => {
  assert.equal(languageName("not a code!", "en"), "not a code!");
});

test("every status has words, and the error status reads like idle", () => {
  for (const state of ["idle", "checking", "connecting", "live", "paused", "reconnecting", "ended"]) {
    assert.ok(STATUS_WORDS[state], state);
  }
  assert.equal(STATUS_WORDS.error, STATUS_WORDS.idle);
});

test("each refusal code has its own sentence", () => {
  const args = { sessionId: "lost-walrus-9", languageName: "Deutsch (German)", message: "" };
  assert.match(refusalText("SESSION_NOT_FOUND", args), /There is no session “lost-walrus-9”/);
  assert.match(refusalText("SESSION_ENDED", args), /has ended/);
  assert.match(refusalText("UNSUPPORTED_LANGUAGE", args), /cannot be heard in Deutsch \(German\)/);
  assert.match(refusalText("JOIN_CODE_REQUIRED", args), /needs a join code/);
  assert.match(refusalText("JOIN_CODE_INVALID", args), /not right/);
  assert.match(refusalText("SESSION_FULL", args), /full/);
  assert.match(refusalText("BAD_REQUEST", { ...args, message: "bad id" }), /: bad id$/);
  assert.match(refusalText("", args), /may be unknown or ended/);
  const codes = [...FINAL_CODES].map((code) => refusalText(code, args));
  assert.equal(new Set(codes).size, codes.length - 1); // MISSING_FIELD = BAD_REQUEST
});

test("the sweeper's end reasons are said in words", () => {
  assert.match(endedReason("idle"), /silent/);
  assert.match(endedReason("maxDuration"), /maximum length/);
  assert.equal(endedReason("speaker left"), "speaker left");
  assert.equal(endedReason(undefined), "");
  assert.equal(endedText(""), "Thank you for listening.");
  assert.equal(endedText("x"), "Thank you for listening. (x)");
});

test("notices say what happened", () => {
  assert.equal(SAY.nowListening("français"), "Now listening in français.");
  assert.match(SAY.switchRefused("Deutsch", "español"), /Still listening in español/);
  assert.equal(errorDetail({ code: "THROTTLED" }), "THROTTLED");
  assert.equal(errorDetail({ code: "X", message: "slow down" }), "slow down");
  assert.equal(errorDetail(null), "error");
});

// ------------------------------------------------------------------ preferences.js

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, value);
  }
}

test("preferences are kept under polycast.* and read back typed", () => {
  const storage = new MemoryStorage();
  const prefs = new Preferences(storage);
  assert.equal(prefs.volume(), null);
  assert.equal(prefs.muted(), false);
  prefs.set("volume", 35);
  prefs.set("muted", true);
  prefs.set("showSources", true);
  assert.equal(storage.getItem("polycast.volume"), "35");
  assert.equal(prefs.volume(), 35);
  assert.equal(prefs.muted(), true);
  assert.equal(prefs.showSources(), true);
  prefs.set("volume", "loud");
  assert.equal(prefs.volume(), null);
  prefs.set("volume", 250);
  assert.equal(prefs.volume(), null);
});

test("a storage that throws (private mode) keeps nothing and breaks nothing", () => {
  const broken = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("QuotaExceededError");
    },
  };
  const prefs = new Preferences(broken);
  prefs.set("muted", true);
  assert.equal(prefs.get("muted"), null);
  assert.equal(new Preferences(null).volume(), null);
});

test("the first language offered wins: link, then last choice, then the browser's", () => {
  const languages = ["es", "ca", "fr", "pt", "en"];
  assert.equal(pickLanguage(languages, ["fr", "ca", "es"]), "fr");
  assert.equal(pickLanguage(languages, [null, "ca", "es"]), "ca");
  assert.equal(pickLanguage(languages, [null, null, "pt-BR", "es"]), "pt");
  assert.equal(pickLanguage(languages, ["de", "ja"]), null);
});

test("the speaker's own language is offered after the targets, once", () => {
  assert.deepEqual(offeredLanguages({ languages: ["es", "fr"], sourceLanguage: "en" }), [
    "es",
    "fr",
    "en",
  ]);
  assert.deepEqual(offeredLanguages({ languages: ["es", "en"], sourceLanguage: "en" }), ["es", "en"]);
  assert.deepEqual(offeredLanguages({ languages: ["es"] }), ["es"]);
});

// ------------------------------------------------------------------ session-check.js

/**
 * A fake server with the real gateway's order of checks: the language first (the
 * session's source language is only admitted once the session is found), then the
 * session. Records every URL asked.
 */
function fakeServer({ targets = ["es", "fr"], sessions = { "brave-otter-1": "en" } } = {}) {
  const asked = [];
  const reply = (status, body) => ({
    ok: status < 300,
    status,
    headers: { get: () => "application/json" },
    json: async () => body,
  });
  const fetch = async (url) => {
    asked.push(String(url));
    const sessionId = decodeURIComponent(url.pathname.split("/").pop());
    const language = url.searchParams.get("targetLanguage");
    const source = sessions[sessionId];
    if (!targets.includes(language) && language !== source) {
      return reply(400, { code: "UNSUPPORTED_LANGUAGE", message: `unsupported '${language}'` });
    }
    if (source === undefined) return reply(404, { code: "SESSION_NOT_FOUND", message: "no" });
    return reply(200, { ok: true });
  };
  return { fetch, asked, base: "http://127.0.0.1:9/page/" };
}

const CONFIG = { websocketUrl: "ws://x", languages: ["es", "fr"], sourceLanguage: "en" };

test("the check asks beside the page and reads the refusal", async () => {
  const io = fakeServer();
  const found = await checkSession(CONFIG, { sessionId: "brave-otter-1", targetLanguage: "es" }, io);
  assert.equal(found.ok, true);
  assert.equal(io.asked[0], "http://127.0.0.1:9/page/sessions/brave-otter-1?targetLanguage=es");
  const missing = await checkSession(CONFIG, { sessionId: "nope-1", targetLanguage: "es" }, io);
  assert.deepEqual([missing.ok, missing.code, missing.status], [false, "SESSION_NOT_FOUND", 404]);
});

test("a mistyped session asked for in the speaker's language is said not to exist", async () => {
  const io = fakeServer();
  const result = await checkJoin(CONFIG, { sessionId: "brave-oter-1", targetLanguage: "en" }, io);
  assert.equal(result.code, "SESSION_NOT_FOUND");
  assert.equal(io.asked.length, 2);
  assert.match(io.asked[1], /targetLanguage=es$/);
});

test("a language the session really lacks is still said to be unsupported", async () => {
  const io = fakeServer();
  const result = await checkJoin(CONFIG, { sessionId: "brave-otter-1", targetLanguage: "de" }, io);
  assert.equal(result.code, "UNSUPPORTED_LANGUAGE");
});

test("the speaker's language of a real session is admitted with one request", async () => {
  const io = fakeServer();
  const result = await checkJoin(CONFIG, { sessionId: "brave-otter-1", targetLanguage: "en" }, io);
  assert.equal(result.ok, true);
  assert.equal(io.asked.length, 1);
});

test("no check endpoint (HTML, network error, turned off) means unknown", async () => {
  const html = {
    fetch: async () => ({ ok: true, status: 200, headers: { get: () => "text/html" } }),
    base: "http://127.0.0.1:9/",
  };
  assert.equal((await checkSession(CONFIG, { sessionId: "a", targetLanguage: "es" }, html)).ok, null);
  const down = {
    fetch: async () => {
      throw new TypeError("Failed to fetch");
    },
    base: "http://127.0.0.1:9/",
  };
  assert.equal((await checkJoin(CONFIG, { sessionId: "a", targetLanguage: "en" }, down)).ok, null);
  const off = { ...CONFIG, sessionCheckUrl: null };
  assert.equal((await checkSession(off, { sessionId: "a", targetLanguage: "es" }, down)).ok, null);
});

// ------------------------------------------------------------------ playback.js

test("the unlock sound is a valid 0.1 s silent 8-bit WAV", () => {
  const wav = silentWav();
  const view = new DataView(wav.buffer);
  const text = (offset, length) => String.fromCharCode(...wav.slice(offset, offset + length));
  assert.equal(text(0, 4), "RIFF");
  assert.equal(text(8, 8), "WAVEfmt ");
  assert.equal(view.getUint32(4, true), wav.length - 8);
  assert.equal(view.getUint32(24, true), 8000);
  assert.equal(view.getUint32(40, true), 800);
  assert.ok(wav.slice(44).every((sample) => sample === 128));
});
