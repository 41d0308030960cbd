// The speaker page: open the speaker link, press Start, talk.
//
// Wiring only. Each concern has its module:
//   speaker-strings.js     every sentence the page says
//   speaker-view.js        what the speaker sees
//   speaker-session.js     microphone → recognition → sentences → the session
//   speaker-microphone.js  getUserMedia + the worklet (pcm-worklet.js: 16 kHz PCM)
//   transcribe-client.js   the recognition stream (transcribe-eventstream.js: frames)
//   speaker-sentences.js   sentences, rate, loudness, emotion, partial pacing
//   speaker-channel.js     the session WebSocket: sequences, acks, resends
//   connection.js          the WebSocket lifecycle (shared with the listener page)

import { FINAL_SPEAKER_CODES, SpeakerChannel, checkSpeaker, speakerUrl } from "./speaker-channel.js";
import { Microphone, microphoneSupport } from "./speaker-microphone.js";
import { SpeakingSession } from "./speaker-session.js";
import { SAY, speakerRefusalText, transcribeLanguage } from "./speaker-strings.js";
import { SpeakerView } from "./speaker-view.js";
import { StatusLine } from "./status-line.js";
import { TranscribeStream } from "./transcribe-client.js";

const $ = (id) => document.getElementById(id);
const GIVE_UP_AFTER = 8; // failed connects in a row, when the server has no session check

const view = new SpeakerView(
  {
    talk: $("talk"),
    controls: $("controls"),
    level: $("level"),
    problem: $("problem"),
    notice: $("notice"),
    liveText: $("live-text"),
    sentences: $("sentences"),
    scroller: $("sentences-scroll"),
    empty: $("sentences-empty"),
    ended: $("ended"),
    endedTitle: $("ended-title"),
    endedReason: $("ended-reason"),
  },
  { status: new StatusLine($("status"), $("status-text")) },
);

const storage = (area) => ({
  get: (key) => {
    try {
      return area.getItem(key);
    } catch {
      return null;
    }
  },
  set: (key, value) => {
    try {
      area.setItem(key, value);
    } catch {
      // private mode: the count lives as long as the page
    }
  },
});

/** The session id and speaker key from the link; the key leaves the address bar
 *  (the speaker may be sharing their screen) and is kept for a reload of this tab. */
function readLink() {
  const link = new URL(location.href);
  const fragment = new URLSearchParams(link.hash.replace(/^#/, ""));
  const sessionId = link.searchParams.get("sessionId") || "";
  const keys = storage(sessionStorage);
  const given =
    link.searchParams.get("speakerKey") || fragment.get("speakerKey") || fragment.get("key");
  if (given && sessionId) keys.set(`polycast.speaker.${sessionId}.key`, given);
  if (link.searchParams.has("speakerKey") || link.hash) {
    link.searchParams.delete("speakerKey");
    link.hash = "";
    history.replaceState(null, "", link);
  }
  return { sessionId, speakerKey: given || keys.get(`polycast.speaker.${sessionId}.key`) || "" };
}

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const loaded = await response.json();
  if (!loaded || typeof loaded.websocketUrl !== "string") throw new Error("no websocketUrl");
  return loaded;
}

async function main() {
  view.setTalkEnabled(false); // until connected
  const { sessionId, speakerKey } = readLink();
  $("session-name").textContent = sessionId || "—";
  const support = microphoneSupport(globalThis);
  if (support !== "ok") view.noMicrophoneHere(support);
  if (!sessionId || !speakerKey) {
    view.cannotConnect(SAY.badLink);
    return;
  }
  let config;
  try {
    config = await loadConfig();
  } catch {
    view.cannotConnect(SAY.noSettings);
    return;
  }
  const request = { sessionId, speakerKey };
  let session = null;
  const channel = new SpeakerChannel({
    url: speakerUrl(config.websocketUrl, sessionId, speakerKey),
    sessionId,
    store: storage(localStorage),
    onState: (state) => {
      if (state === "closed") return;
      view.connectionState(state);
      session?.connectionState(state);
    },
    onAck: (sequence) => view.acked(sequence),
    onRefused: (sequence, error) => view.refused(sequence, error),
    onMessage: (message) => {
      if (message.type === "sessionEnded") session?.end(message.reason);
      else if (message.type === "error") view.setNotice(`The server said: ${message.message || message.code}`);
    },
    shouldRetry: async ({ attempt }) => {
      const check = await checkSpeaker(config, request);
      if (check.ok === false && FINAL_SPEAKER_CODES.has(check.code)) {
        if (check.code === "SESSION_ENDED") session?.end();
        else view.cannotConnect(speakerRefusalText(check.code, { sessionId, message: check.message }));
        session?.stop();
        return false;
      }
      if (check.ok === null && attempt + 1 >= GIVE_UP_AFTER) {
        view.cannotConnect(SAY.gaveUp);
        session?.stop();
        return false;
      }
      return true;
    },
  });
  session = new SpeakingSession({
    channel,
    languageCode: config.transcribeLanguageCode || transcribeLanguage(config.sourceLanguage),
    microphone: (handlers) => new Microphone(handlers),
    recognition: (handlers) => new TranscribeStream(handlers),
    view,
  });
  $("talk").addEventListener("click", () => {
    if (!view.talkEnabled) {
      if (view.connection !== "live" && support === "ok") view.setNotice(SAY.notConnectedYet);
      return;
    }
    if (session.talking) session.stop();
    else session.start();
  });
  channel.start();
}

main();
