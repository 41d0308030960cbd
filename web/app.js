// The listener page: join a session, hear it in one language, read the captions;
// switch language or pause while listening, and see when the speaker pauses.
//
// Wiring only. Each concern has its module:
//   strings.js        every sentence the page says
//   preferences.js    what is remembered, which language to offer first
//   session-check.js  asking the server why a join would be refused
//   join-view.js      the join form          controls.js   the listening controls
//   captions.js       captions, announcer, live line
//   playback.js       the audio queue        listening.js  one listening session
//   connection.js     the WebSocket          reorder.js    ordering rules
//   transcript-links.js  the end panel's transcript downloads

import { CaptionsView } from "./captions.js";
import { ListenView, SoundControls } from "./controls.js";
import { rememberJoinCode, rememberedJoinCode, sessionLanguages } from "./join-session.js";
import { JoinView } from "./join-view.js";
import { ListeningSession } from "./listening.js";
import { Playback } from "./playback.js";
import { Preferences, offeredLanguages, pickLanguage } from "./preferences.js";
import { checkJoin } from "./session-check.js";
import { StatusLine } from "./status-line.js";
import { SAY, languageName, refusalText } from "./strings.js";
import { TranscriptLinks } from "./transcript-links.js";

const $ = (id) => document.getElementById(id);
const nameOf = (code) => languageName(code, navigator.language);

const preferences = new Preferences();
const status = new StatusLine($("status"), $("status-text"));
const join = new JoinView({
  section: $("join"),
  form: $("join-form"),
  sessionId: $("session-id"),
  language: $("language"),
  joinCodeField: $("join-code-field"),
  joinCode: $("join-code"),
  showJoinCode: $("show-join-code"),
  error: $("join-error"),
  start: $("start"),
});
const listen = new ListenView({
  section: $("listen"),
  title: $("listen-title"),
  language: $("listen-language"),
  session: $("listen-session"),
  switchLanguage: $("switch-language"),
  pause: $("pause"),
  leave: $("leave"),
  again: $("again"),
  resumeAudio: $("resume-audio"),
  notice: $("notice"),
  catchingUp: $("catching-up"),
  audioBlocked: $("audio-blocked"),
  speakerPaused: $("speaker-paused"),
  listenerPaused: $("listener-paused"),
  ended: $("ended"),
  endedTitle: $("ended-title"),
  endedReason: $("ended-reason"),
});
const downloads = new TranscriptLinks({
  box: $("downloads"),
  list: $("download-list"),
  error: $("download-error"),
});
let config = null;
let session = null;

const captions = new CaptionsView(
  {
    scroller: $("captions-scroll"),
    list: $("captions"),
    liveLine: $("live-line"),
    announcer: $("announcer"),
    empty: $("captions-empty"),
    jump: $("jump-latest"),
  },
  { sourceLanguage: () => config?.sourceLanguage || "" },
);
const playback = new Playback($("player"), {
  onCaption: (sequence, state) => captions.mark(sequence, state),
  onBlocked: (blocked) => listen.setAudioBlocked(blocked),
  onCatchingUp: (catchingUp) => listen.setCatchingUp(catchingUp),
});
const sound = new SoundControls(
  {
    mute: $("mute"),
    volume: $("volume"),
    showSources: $("show-sources"),
    captionsOnly: $("captions-only"),
  },
  { playback, captions, preferences, setAudio: (on) => session?.setAudio(on) },
);

const check = (request) =>
  checkJoin(config, {
    sessionId: request.sessionId,
    targetLanguage: request.targetLanguage ?? request.language,
    joinCode: request.joinCode,
  });

function setAddress(params) {
  const link = new URL(location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value === null) link.searchParams.delete(key);
    else link.searchParams.set(key, value);
  }
  history.replaceState(null, "", link);
}

function showView(view) {
  document.body.dataset.view = view; // the listening view is one screen high (listener.css)
  join.show(view === "join");
  if (view === "join") listen.close();
}

function refuse(request, code, message) {
  join.showRefusal(
    code,
    refusalText(code, { sessionId: request.sessionId, languageName: nameOf(request.language), message }),
  );
  status.set("error");
}

async function onJoin(request) {
  if (!config) return;
  playback.unlock(); // first, while the tap still counts as a user gesture
  join.setBusy(true);
  status.set("checking");
  try {
    const result = await check(request);
    if (result.ok === false) refuse(request, result.code, result.message);
    else startListening({ ...request, sourceLanguage: result.sourceLanguage });
  } finally {
    join.setBusy(false);
  }
}

function backToJoin() {
  downloads.clear();
  session?.stop();
  session = null;
  showView("join");
}

function startListening(request) {
  preferences.set("language", request.language);
  rememberJoinCode(request.sessionId, request.joinCode); // asked once per tab
  setAddress({ sessionId: request.sessionId, targetLanguage: request.language, joinCode: null });
  captions.clear();
  showView("listen");
  listen.open(request, offeredLanguages(config), nameOf);
  session = new ListeningSession({
    request,
    websocketUrl: config.websocketUrl,
    views: { status, listen, captions },
    playback,
    check,
    nameOf,
    audioOn: sound.audioOn,
    onRefused: (code, message) => {
      const language = session?.language ?? request.language;
      backToJoin();
      refuse({ ...request, language }, code, message);
    },
    onGaveUp: (text) => {
      backToJoin();
      join.showError(text);
      status.set("error");
      join.focusStart();
    },
    onLanguage: (language) => {
      preferences.set("language", language);
      setAddress({ targetLanguage: language });
    },
    onEnded: (language) => {
      const sourceLanguage = request.sourceLanguage || config.sourceLanguage;
      downloads.show(config, { ...request, language, sourceLanguage }, nameOf);
    },
  });
  session.start();
}

listen.bind({
  switchLanguage: (language) => session?.switchLanguage(language),
  togglePause: () => session?.togglePause(),
  leave: () => {
    backToJoin();
    status.set("idle");
    join.focusStart();
  },
  again: () => {
    backToJoin();
    status.set("idle");
    join.focusSessionId();
  },
  resumeAudio: () => playback.retry(),
});
join.onSubmit(onJoin);

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const loaded = await response.json();
  if (!loaded || typeof loaded.websocketUrl !== "string" || !Array.isArray(loaded.languages)) {
    throw new Error("config.json needs websocketUrl and languages");
  }
  return loaded;
}

function restoreTextSize() {
  const select = $("text-size");
  select.value = preferences.textSize();
  document.body.dataset.textSize = select.value;
  select.addEventListener("change", () => {
    preferences.set("textSize", select.value);
    document.body.dataset.textSize = select.value;
  });
}

async function main() {
  const params = new URLSearchParams(location.search);
  if (params.get("view") === "display") {
    location.replace(`display.html${location.search}`); // a static site has no routing
    return;
  }
  const sessionId = params.get("sessionId");
  const joinCode = params.get("joinCode") || rememberedJoinCode(sessionId);
  join.prefill({ sessionId, joinCode });
  sound.restore();
  restoreTextSize();
  join.setBusy(true); // until the settings are in
  try {
    config = await loadConfig();
  } catch {
    join.showError(SAY.noSettings);
    status.set("error");
    return;
  }
  // Opened with a session id: offer that session's languages.
  const ofSession = sessionId ? await sessionLanguages(config, sessionId, joinCode) : null;
  const languages = ofSession?.ok === true ? ofSession.languages : offeredLanguages(config);
  const chosen = pickLanguage(languages, [
    params.get("targetLanguage"),
    preferences.get("language"),
    ...(navigator.languages || []),
  ]);
  join.fillLanguages(languages, nameOf, chosen);
  join.setBusy(false);
  join.focusFirst();
}

main();
