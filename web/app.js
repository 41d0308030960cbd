// The listener page: join a session, hear it in one language, read the captions;
// switch language or pause while listening, and see when the speaker pauses.
//
// Wiring only: the ordering rules live in reorder.js, the connection rules in
// connection.js, the refusal wording in session-check.js.

import { ListenerConnection } from "./connection.js";
import { PartAssembler, PlaybackQueue, SegmentOrder } from "./reorder.js";
import { FINAL_CODES, checkSession, refusalText } from "./session-check.js";

const GAP_TIMEOUT_MS = 3000;
const MAX_QUEUED_SECONDS = 10;
const CATCH_UP_WAIT_MS = 10_000;
const MAX_CAPTIONS = 500;
const MAX_RETRIES_UNCHECKED = 8;
const MAX_RETRIES_BEFORE_LIVE = 5;
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  statusText: $("status-text"),
  join: $("join"),
  form: $("join-form"),
  sessionId: $("session-id"),
  language: $("language"),
  joinCodeField: $("join-code-field"),
  joinCode: $("join-code"),
  showJoinCode: $("show-join-code"),
  joinError: $("join-error"),
  start: $("start"),
  listen: $("listen"),
  listenLanguage: $("listen-language"),
  listenSession: $("listen-session"),
  switchLanguage: $("switch-language"),
  pause: $("pause"),
  speakerPaused: $("speaker-paused"),
  listenerPaused: $("listener-paused"),
  mute: $("mute"),
  volume: $("volume"),
  showSources: $("show-sources"),
  leave: $("leave"),
  catchingUp: $("catching-up"),
  audioBlocked: $("audio-blocked"),
  resumeAudio: $("resume-audio"),
  notice: $("notice"),
  captions: $("captions"),
  captionsEmpty: $("captions-empty"),
  jumpLatest: $("jump-latest"),
  ended: $("ended"),
  endedReason: $("ended-reason"),
  again: $("again"),
  player: $("player"),
};

const STATUS_WORDS = {
  idle: "Not connected",
  checking: "Checking the session…",
  connecting: "Connecting…",
  live: "Live",
  paused: "Paused",
  reconnecting: "Reconnecting…",
  ended: "Session ended",
  error: "Not connected",
};

let config = null;
let listening = null; // the current session: { sessionId, language, joinCode, connection, ... }
let playedCount = 0;

// ---------------------------------------------------------------- status

function setStatus(state, words = STATUS_WORDS[state]) {
  ui.status.dataset.state = state;
  document.body.dataset.state = state;
  if (ui.statusText.textContent !== words) ui.statusText.textContent = words;
}

function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = !text;
}

// ---------------------------------------------------------------- languages

function languageName(code) {
  try {
    const own = new Intl.DisplayNames([code], { type: "language" }).of(code);
    const here = new Intl.DisplayNames([navigator.language || "en"], { type: "language" }).of(
      code,
    );
    if (own && here && own.toLowerCase() !== here.toLowerCase()) return `${own} (${here})`;
    return own || here || code;
  } catch {
    return code;
  }
}

/** The targets the server offers, plus the speaker's own language (heard untranslated). */
function allLanguages() {
  const languages = [...config.languages];
  const source = config.sourceLanguage;
  if (typeof source === "string" && source && !languages.includes(source)) languages.push(source);
  return languages;
}

function fillOptions(select, languages) {
  select.replaceChildren();
  for (const code of languages) {
    const option = document.createElement("option");
    option.value = code;
    option.textContent = languageName(code);
    option.lang = code;
    select.append(option);
  }
}

function fillLanguages(languages, wanted) {
  fillOptions(ui.language, languages);
  const preferred = [wanted, remembered("language"), ...(navigator.languages || [])]
    .filter(Boolean)
    .map((code) => String(code));
  for (const code of preferred) {
    const match =
      languages.find((lang) => lang === code) ||
      languages.find((lang) => lang === code.split("-")[0]);
    if (match) {
      ui.language.value = match;
      return;
    }
  }
}

function remembered(key) {
  try {
    return localStorage.getItem(`polycast.${key}`);
  } catch {
    return null;
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(`polycast.${key}`, String(value));
  } catch {
    // Private mode: settings are simply not kept.
  }
}

// ---------------------------------------------------------------- joining

function showJoinError(text) {
  ui.joinError.textContent = text;
  ui.joinError.hidden = !text;
}

function showJoinCodeField(focus) {
  ui.joinCodeField.hidden = false;
  ui.showJoinCode.hidden = true;
  if (focus) ui.joinCode.focus();
}

function showRefusal(code, message, request) {
  const text = refusalText(code, {
    sessionId: request.sessionId,
    languageName: languageName(request.language),
    message,
  });
  showJoinError(text);
  setStatus("error");
  if (code === "JOIN_CODE_REQUIRED" || code === "JOIN_CODE_INVALID") {
    showJoinCodeField(true);
    ui.joinCode.select();
  } else if (code === "UNSUPPORTED_LANGUAGE") {
    ui.language.focus();
  } else {
    ui.sessionId.focus();
  }
}

/** Browsers only play sound after a tap: play a moment of silence inside the tap. */
function unlockAudio() {
  const rate = 8000;
  const samples = rate / 10;
  const wav = new Uint8Array(44 + samples);
  const view = new DataView(wav.buffer);
  const ascii = (offset, text) => [...text].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  ascii(0, "RIFF");
  view.setUint32(4, 36 + samples, true);
  ascii(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate, true);
  view.setUint16(32, 1, true);
  view.setUint16(34, 8, true);
  ascii(36, "data");
  view.setUint32(40, samples, true);
  wav.fill(128, 44);
  const url = URL.createObjectURL(new Blob([wav], { type: "audio/wav" }));
  ui.player.src = url;
  ui.player.play().catch(() => {});
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

async function onJoin(event) {
  event.preventDefault();
  if (!config) return;
  unlockAudio(); // first, while the tap still counts as a user gesture
  const request = {
    sessionId: ui.sessionId.value.trim(),
    language: ui.language.value,
    joinCode: ui.joinCode.value.trim(),
  };
  if (!SESSION_ID.test(request.sessionId)) {
    showJoinError("Enter the session id, like golden-eagle-427 (letters, digits and dashes).");
    ui.sessionId.setAttribute("aria-invalid", "true");
    ui.sessionId.focus();
    return;
  }
  ui.sessionId.removeAttribute("aria-invalid");
  showJoinError("");
  ui.start.disabled = true;
  setStatus("checking");
  try {
    const check = await checkSession(config, {
      sessionId: request.sessionId,
      targetLanguage: request.language,
      joinCode: request.joinCode,
    });
    if (check.ok === false) {
      showRefusal(check.code, check.message, request);
      return;
    }
    startListening(request);
  } finally {
    ui.start.disabled = false;
  }
}

function startListening(request) {
  remember("language", request.language);
  const link = new URL(location.href);
  link.searchParams.set("sessionId", request.sessionId);
  link.searchParams.set("targetLanguage", request.language);
  link.searchParams.delete("joinCode");
  history.replaceState(null, "", link);

  const url = new URL(config.websocketUrl, location.href);
  url.searchParams.set("sessionId", request.sessionId);
  url.searchParams.set("targetLanguage", request.language);
  if (request.joinCode) url.searchParams.set("joinCode", request.joinCode);

  listening = {
    ...request,
    order: new SegmentOrder({ gapTimeoutMs: GAP_TIMEOUT_MS }),
    assembler: new PartAssembler(),
    queue: new PlaybackQueue({ maxSeconds: MAX_QUEUED_SECONDS }),
    current: null,
    gapTimer: null,
    ended: false,
    connection: null,
    state: "connecting",
    paused: false, // the listener paused: the server sends nothing until resume
    pausing: null, // a pause (true) or resume (false) waiting for its ack
    switching: null, // a language waiting for its switchLanguage ack
    speakerPaused: false,
  };
  const session = listening;
  session.connection = new ListenerConnection({
    url: url.toString(),
    onMessage: (message) => onMessage(session, message),
    onState: (state) => onConnectionState(session, state),
    resumeFrom: () => session.order.lastReleased,
    onCatchUp: () => {
      session.order.waitUntil(performance.now() + CATCH_UP_WAIT_MS);
      scheduleGap(session);
    },
    shouldRetry: (info) => shouldRetry(session, info),
  });

  ui.captions.replaceChildren();
  ui.captionsEmpty.hidden = false;
  ui.ended.hidden = true;
  ui.leave.hidden = false;
  ui.catchingUp.hidden = true;
  ui.audioBlocked.hidden = true;
  showNotice("");
  fillOptions(ui.switchLanguage, allLanguages());
  ui.switchLanguage.value = request.language;
  ui.switchLanguage.disabled = false;
  showPaused(session);
  showSpeakerPaused(session, false);
  ui.listenLanguage.textContent = languageName(request.language);
  ui.listenLanguage.lang = request.language;
  ui.listenSession.textContent = request.sessionId;
  ui.join.hidden = true;
  ui.listen.hidden = false;
  document.body.dataset.view = "listen";
  $("listen-title").focus();
  session.connection.start();
}

function onConnectionState(session, state) {
  if (session !== listening || session.ended) return;
  if (state === "closed") return; // leaving or giving up sets its own status
  session.state = state;
  if (state !== "live") {
    // An answer that was on its way is lost with the connection: settle locally.
    if (session.switching !== null) cancelSwitch(session);
    if (session.pausing !== null) applyPause(session, session.pausing);
  } else if (session.paused) {
    session.connection.send({ action: "pause" }); // a new connection starts unpaused
  }
  setStatus(state === "live" && session.paused ? "paused" : state);
}

// ---------------------------------------------------------------- listening controls

function onSwitchLanguage() {
  const session = listening;
  const language = ui.switchLanguage.value;
  if (!session || session.ended || language === session.language) return;
  if (!session.connection.send({ action: "switchLanguage", targetLanguage: language })) {
    ui.switchLanguage.value = session.language;
    showNotice("Not connected right now. Try again in a moment.");
    return;
  }
  session.switching = language;
  ui.switchLanguage.disabled = true;
}

function applySwitch(session, language) {
  session.switching = null;
  session.language = language;
  ui.switchLanguage.disabled = false;
  ui.switchLanguage.value = language;
  ui.listenLanguage.textContent = languageName(language);
  ui.listenLanguage.lang = language;
  document.body.dataset.language = language;
  remember("language", language);
  const link = new URL(location.href);
  link.searchParams.set("targetLanguage", language);
  history.replaceState(null, "", link);
  const url = new URL(session.connection.url);
  url.searchParams.set("targetLanguage", language); // a reconnect keeps the new language
  session.connection.url = url.toString();
  // Start from the next sentence in the new language; drop queued old-language audio.
  session.order.liveEdge();
  session.assembler = new PartAssembler();
  session.queue.clear();
  clearTimeout(session.gapTimer);
  showNotice(`Now listening in ${languageName(language)}.`);
}

function cancelSwitch(session) {
  session.switching = null;
  ui.switchLanguage.disabled = false;
  ui.switchLanguage.value = session.language;
}

function onPauseClick() {
  const session = listening;
  if (!session || session.ended || session.pausing !== null) return;
  const want = !session.paused;
  if (!session.connection.send({ action: want ? "pause" : "resume" })) {
    applyPause(session, want); // offline: the next connection is told on open
    return;
  }
  session.pausing = want;
  ui.pause.disabled = true;
}

function applyPause(session, paused) {
  session.pausing = null;
  const was = session.paused;
  session.paused = paused;
  showPaused(session);
  showNotice("");
  if (paused && !was) {
    if (session.current) markCaption(session.current.segment.sequence, "spoken");
    stopPlayback(session);
    ui.catchingUp.hidden = true;
  }
  if (!paused && was) session.order.liveEdge(); // continue from where the speaker is now
  if (session.state === "live") setStatus(paused ? "paused" : "live");
}

function showPaused(session) {
  ui.pause.disabled = false;
  ui.pause.setAttribute("aria-pressed", String(session.paused));
  ui.pause.textContent = session.paused ? "Resume" : "Pause";
  ui.listenerPaused.hidden = !session.paused;
  document.body.dataset.paused = String(session.paused);
}

function showSpeakerPaused(session, paused) {
  session.speakerPaused = paused;
  ui.speakerPaused.hidden = !paused;
  document.body.dataset.speaker = paused ? "paused" : "talking";
}

/** After a failed or dropped connection: ask the server why, then retry or explain. */
async function shouldRetry(session, { everLive, wasLive, attempt }) {
  if (session !== listening || session.ended) return false;
  if (wasLive) return true; // it just dropped: reconnect at once
  const check = await checkSession(config, {
    sessionId: session.sessionId,
    targetLanguage: session.language,
    joinCode: session.joinCode,
  });
  if (session !== listening || session.ended) return false;
  if (check.ok === false && FINAL_CODES.has(check.code)) {
    if (check.code === "SESSION_ENDED" && everLive) {
      showEnded(session, "");
    } else {
      backToJoin(session);
      showRefusal(check.code, check.message, session);
    }
    return false;
  }
  const limit = check.ok === true ? MAX_RETRIES_BEFORE_LIVE : MAX_RETRIES_UNCHECKED;
  if (check.ok === null && !everLive) {
    backToJoin(session);
    if (navigator.onLine === false) {
      showJoinError("You seem to be offline. Check your connection and try again.");
      setStatus("error");
      ui.start.focus();
    } else {
      showRefusal("", "", session); // no way to ask why: the generic wording
    }
    return false;
  }
  if (attempt >= limit && !(everLive && check.ok === true)) {
    backToJoin(session);
    showJoinError(
      everLive
        ? "The connection was lost and could not be restored. Check your network and try again."
        : "Could not connect to the live stream. Check your network and try again.",
    );
    setStatus("error");
    ui.start.focus();
    return false;
  }
  return true;
}

function backToJoin(session) {
  stopPlayback(session);
  listening = null;
  ui.listen.hidden = true;
  ui.join.hidden = false;
  document.body.dataset.view = "join";
}

function leave() {
  const session = listening;
  if (!session) return;
  session.ended = true;
  session.connection.stop();
  backToJoin(session);
  setStatus("idle");
  ui.start.focus();
}

function showEnded(session, reason) {
  session.ended = true;
  session.connection.stop();
  clearTimeout(session.gapTimer);
  // Whatever is held behind a gap will not be completed now: show it.
  while (session.order.deadline() !== null) {
    for (const segment of session.order.tick(Number.POSITIVE_INFINITY)) release(session, segment);
  }
  setStatus("ended");
  ui.leave.hidden = true;
  ui.endedReason.textContent = reason
    ? `Thank you for listening. (${reason})`
    : "Thank you for listening.";
  ui.ended.hidden = false;
  ui.captionsEmpty.hidden = true;
}

// ---------------------------------------------------------------- messages

function onMessage(session, message) {
  if (session !== listening) return;
  switch (message.type) {
    case "segment":
      if (session.switching !== null && message.language === session.switching) {
        applySwitch(session, session.switching); // the segment beat its ack here
      }
      if (session.speakerPaused) showSpeakerPaused(session, false); // they speak again
      if (!session.ended && !session.paused) onSegment(session, message);
      break;
    case "sessionEnded":
      if (!session.ended) showEnded(session, endedReason(message.reason));
      break;
    case "sessionPaused":
      showSpeakerPaused(session, true);
      break;
    case "sessionResumed":
      showSpeakerPaused(session, false);
      break;
    case "ack":
      if (message.action === "switchLanguage" && typeof message.targetLanguage === "string") {
        if (message.targetLanguage !== session.language) applySwitch(session, message.targetLanguage);
        else cancelSwitch(session);
      } else if (message.action === "pause" || message.action === "resume") {
        applyPause(session, message.action === "pause");
      } else if (message.action === "catchUp") {
        const resent = Number(document.body.dataset.resent || 0);
        document.body.dataset.resent = String(resent + (Number(message.resent) || 0));
        session.order.waitUntil(0);
        scheduleGap(session);
      }
      break;
    case "error":
      if (session.switching !== null) {
        const wanted = session.switching;
        cancelSwitch(session);
        showNotice(
          message.code === "UNSUPPORTED_LANGUAGE"
            ? `This session cannot be heard in ${languageName(wanted)}. Still listening in ${languageName(session.language)}.`
            : `Could not switch language: ${message.message || message.code || "error"}`,
        );
      } else if (session.pausing !== null) {
        session.pausing = null;
        showPaused(session);
        showNotice(`The server said: ${message.message || message.code || "error"}`);
      } else {
        showNotice(`The server said: ${message.message || message.code || "error"}`);
      }
      break;
    default:
      break; // pong and anything newer: nothing to show
  }
}

/** Why a session ended, in words (the sweeper's reasons are codes). */
function endedReason(reason) {
  if (reason === "idle") return "the speaker was silent for a long time";
  if (reason === "maxDuration") return "it reached its maximum length";
  return reason || "";
}

function onSegment(session, message) {
  if (!Number.isInteger(message.sequence) || message.sequence < 0) return;
  if (message.language && message.language !== session.language) return;
  let segment;
  try {
    segment = session.assembler.add(message);
  } catch {
    return; // undecodable audio: the same segment may come again whole
  }
  if (!segment) return;
  const result = session.order.accept(segment, performance.now());
  if (result.late) addCaption(result.late, { late: true });
  for (const released of result.released) release(session, released);
  scheduleGap(session);
}

function scheduleGap(session) {
  clearTimeout(session.gapTimer);
  const deadline = session.order.deadline();
  if (deadline === null || session.ended) return;
  session.gapTimer = setTimeout(
    () => {
      if (session !== listening) return;
      for (const segment of session.order.tick(performance.now())) release(session, segment);
      const last = session.order.lastReleased;
      if (last !== null) session.assembler.discardThrough(last);
      scheduleGap(session);
    },
    Math.max(0, deadline - performance.now()) + 5,
  );
}

function release(session, segment) {
  addCaption(segment, {});
  document.body.dataset.lastSequence = String(segment.sequence);
  if (!segment.audio) return;
  for (const dropped of session.queue.push(segment)) markCaption(dropped.sequence, "skipped");
  ui.catchingUp.hidden = !session.queue.catchingUp;
  playNext(session);
}

// ---------------------------------------------------------------- audio

function playNext(session) {
  if (session.current || session !== listening) return;
  const segment = session.queue.shift();
  ui.catchingUp.hidden = !session.queue.catchingUp;
  if (!segment) return;
  const url = segment.audio.url
    ? segment.audio.url
    : URL.createObjectURL(new Blob([segment.audio.bytes], { type: "audio/mpeg" }));
  session.current = { segment, url, counted: false, own: !segment.audio.url };
  markCaption(segment.sequence, "speaking");
  ui.player.src = url;
  ui.player.play().catch((err) => {
    if (session.current?.segment !== segment) return;
    if (err && err.name === "NotAllowedError") {
      ui.audioBlocked.hidden = false; // the tap on the button plays it
    } else {
      finishCurrent(session);
    }
  });
}

function finishCurrent(session) {
  const current = session.current;
  if (!current) return;
  session.current = null;
  if (current.own) URL.revokeObjectURL(current.url);
  markCaption(current.segment.sequence, "spoken");
  playNext(session);
}

function stopPlayback(session) {
  clearTimeout(session.gapTimer);
  session.queue.clear();
  const current = session.current;
  session.current = null;
  if (current && current.own) URL.revokeObjectURL(current.url);
  ui.player.pause();
  ui.player.removeAttribute("src");
  ui.player.load();
}

ui.player.addEventListener("playing", () => {
  const current = listening?.current;
  if (!current || current.counted) return;
  current.counted = true;
  playedCount += 1;
  document.body.dataset.played = String(playedCount);
  ui.audioBlocked.hidden = true;
});
ui.player.addEventListener("ended", () => listening && finishCurrent(listening));
ui.player.addEventListener("error", () => {
  if (listening?.current) finishCurrent(listening);
});

// ---------------------------------------------------------------- captions

function nearBottom() {
  const el = ui.captions;
  return el.scrollHeight - el.scrollTop - el.clientHeight < 48;
}

function addCaption(segment, { late }) {
  const stick = nearBottom();
  const item = document.createElement("li");
  item.className = "caption";
  item.id = `caption-${segment.sequence}`;
  item.dataset.sequence = String(segment.sequence);

  const text = document.createElement("p");
  text.className = "text";
  text.lang = segment.language || listening?.language || "";
  text.textContent = segment.text;
  item.append(text);

  const meta = document.createElement("div");
  meta.className = "meta";
  if (segment.sourceText) {
    const sourceId = `source-${segment.sequence}`;
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "source-toggle";
    toggle.setAttribute("aria-controls", sourceId);
    const source = document.createElement("p");
    source.className = "source";
    source.id = sourceId;
    if (config?.sourceLanguage) source.lang = config.sourceLanguage;
    source.textContent = segment.sourceText;
    setSourceShown(toggle, source, ui.showSources.checked);
    toggle.addEventListener("click", () => setSourceShown(toggle, source, source.hidden));
    meta.append(toggle);
    item.append(meta, source);
  } else {
    item.append(meta);
  }
  if (late) {
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = "arrived late";
    meta.append(tag);
    item.classList.add("late");
  }
  if (!segment.audio && !late) {
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = "text only";
    meta.append(tag);
  }

  // Keep sequence order even for a late arrival.
  let before = null;
  for (let node = ui.captions.lastElementChild; node; node = node.previousElementSibling) {
    if (Number(node.dataset.sequence) < segment.sequence) break;
    before = node;
  }
  ui.captions.insertBefore(item, before);
  while (ui.captions.children.length > MAX_CAPTIONS) ui.captions.firstElementChild.remove();
  ui.captionsEmpty.hidden = true;
  if (stick) ui.captions.scrollTop = ui.captions.scrollHeight;
  else ui.jumpLatest.hidden = false;
}

function setSourceShown(toggle, source, shown) {
  source.hidden = !shown;
  toggle.setAttribute("aria-expanded", String(shown));
  toggle.textContent = shown ? "Hide original" : "Original";
}

function markCaption(sequence, state) {
  const item = document.getElementById(`caption-${sequence}`);
  if (!item) return;
  item.classList.remove("speaking");
  item.removeAttribute("aria-current");
  if (state === "speaking") {
    item.classList.add("speaking");
    item.setAttribute("aria-current", "true");
  }
  if (state === "skipped") {
    item.classList.add("skipped");
    const meta = item.querySelector(".meta");
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = "audio skipped";
    meta?.append(tag);
  }
}

ui.captions.addEventListener("scroll", () => {
  if (nearBottom()) ui.jumpLatest.hidden = true;
});
ui.jumpLatest.addEventListener("click", () => {
  ui.captions.scrollTop = ui.captions.scrollHeight;
  ui.jumpLatest.hidden = true;
  ui.captions.focus();
});
ui.showSources.addEventListener("change", () => {
  const shown = ui.showSources.checked;
  remember("showSources", shown);
  for (const item of ui.captions.querySelectorAll(".caption")) {
    const toggle = item.querySelector(".source-toggle");
    const source = item.querySelector(".source");
    if (toggle && source) setSourceShown(toggle, source, shown);
  }
});

// ---------------------------------------------------------------- sound controls

function applyVolume() {
  ui.player.volume = Number(ui.volume.value) / 100;
  ui.volume.setAttribute("aria-valuetext", `${ui.volume.value} %`);
}

function setMuted(muted) {
  ui.player.muted = muted;
  ui.mute.setAttribute("aria-pressed", String(muted));
  ui.mute.textContent = muted ? "Unmute" : "Mute";
  remember("muted", muted);
}

ui.volume.addEventListener("input", () => {
  applyVolume();
  remember("volume", ui.volume.value);
  if (ui.player.muted && Number(ui.volume.value) > 0) setMuted(false);
});
ui.mute.addEventListener("click", () => setMuted(!ui.player.muted));
ui.resumeAudio.addEventListener("click", () => {
  ui.audioBlocked.hidden = true;
  ui.player.play().catch(() => {
    ui.audioBlocked.hidden = false;
  });
});
ui.leave.addEventListener("click", leave);
ui.switchLanguage.addEventListener("change", onSwitchLanguage);
ui.pause.addEventListener("click", onPauseClick);
ui.again.addEventListener("click", () => {
  if (listening) backToJoin(listening);
  setStatus("idle");
  ui.sessionId.select();
  ui.sessionId.focus();
});
ui.showJoinCode.addEventListener("click", () => showJoinCodeField(true));
ui.form.addEventListener("submit", onJoin);

// ---------------------------------------------------------------- start

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const loaded = await response.json();
  if (!loaded || typeof loaded.websocketUrl !== "string" || !Array.isArray(loaded.languages)) {
    throw new Error("config.json needs websocketUrl and languages");
  }
  return loaded;
}

async function main() {
  const params = new URLSearchParams(location.search);
  ui.sessionId.value = params.get("sessionId") || "";
  if (params.get("joinCode")) {
    ui.joinCode.value = params.get("joinCode");
    showJoinCodeField(false);
  }
  const volume = remembered("volume");
  if (volume !== null && !Number.isNaN(Number(volume))) ui.volume.value = volume;
  applyVolume();
  setMuted(remembered("muted") === "true");
  ui.showSources.checked = remembered("showSources") === "true";
  try {
    config = await loadConfig();
  } catch {
    ui.start.disabled = true;
    showJoinError("This page could not load its settings. Reload the page to try again.");
    setStatus("error");
    return;
  }
  fillLanguages(allLanguages(), params.get("targetLanguage"));
  document.body.dataset.ready = "true";
  (ui.sessionId.value ? ui.start : ui.sessionId).focus();
}

main();
