// Every sentence the speaker page says (`speaker.html` holds the static ones). Pure:
// no DOM, so Node's test runner checks it.

/** The status line: [state for the style, words]. */
export const SPEAKER_STATUS = Object.freeze({
  idle: ["idle", "Not connected"],
  connecting: ["connecting", "Connecting…"],
  ready: ["ready", "Ready"],
  onAir: ["live", "On air"],
  reconnecting: ["reconnecting", "Reconnecting…"],
  ended: ["ended", "Session ended"],
  error: ["error", "Not connected"],
  noMicrophone: ["error", "No microphone"],
});

/** Why there is no microphone, and what to do. */
export function microphoneText(problem, { host = "", port = "" } = {}) {
  switch (problem) {
    case "insecure": {
      const local = `http://127.0.0.1${port ? `:${port}` : ""}/`;
      return (
        `No microphone here: this page was opened over plain HTTP at ${host || "this address"}, ` +
        "and browsers allow a microphone only over HTTPS or on the computer itself. " +
        `Open the speaker link on the computer that runs Polycast (starting ${local}), ` +
        "or use the HTTPS address of a deployed page."
      );
    }
    case "denied":
      return (
        "The browser was not allowed to use the microphone. Allow it for this page " +
        "(the camera/microphone icon in the address bar, or the site settings), then press Start again."
      );
    case "none":
      return "No microphone was found. Connect one (or check that it is switched on), then press Start again.";
    case "busy":
      return "The microphone is in use by another program or could not start. Close the other program, then press Start again.";
    case "unsupported":
      return "This browser cannot capture audio for the page. Use a recent Chrome, Edge, Firefox or Safari.";
    case "lost":
      return "The microphone stopped (unplugged or switched off). Press Start to speak again.";
    default:
      return "The microphone could not start. Press Start to try again.";
  }
}

/** What a refused speaker connection means (codes from the session check). */
export function speakerRefusalText(code, { sessionId, message = "" }) {
  switch (code) {
    case "SESSION_NOT_FOUND":
      return `There is no session “${sessionId}”. Check the speaker link you were given.`;
    case "SESSION_ENDED":
      return `The session “${sessionId}” has ended.`;
    case "SPEAKER_KEY_INVALID":
    case "SPEAKER_KEY_REQUIRED":
    case "FORBIDDEN":
      return "This speaker link is not valid for the session: its key is wrong or missing. Ask the organizer for the speaker link.";
    case "SPEAKER_CONNECTED":
    case "SPEAKER_ALREADY_CONNECTED":
      return "Someone is already speaking in this session (the speaker page is open elsewhere). Close it there, then reload this page.";
    default:
      return message
        ? `The server refused the speaker connection: ${message}`
        : "Could not connect as the speaker: the link may be wrong, the session may have ended, or the speaker page may be open elsewhere.";
  }
}

export const SAY = Object.freeze({
  badLink:
    "This page needs the speaker link the organizer gave you (with the session id and the speaker key).",
  noSettings: "This page could not load its settings. Reload the page to try again.",
  start: "Start speaking",
  stop: "Stop speaking",
  connectionLost:
    "Connection lost: reconnecting. What you say meanwhile is kept and sent when the connection is back.",
  gaveUp: "The connection could not be restored. Check your network, then reload the page.",
  recognitionSaid: (code, message) =>
    `Speech recognition stopped: ${message || code}${message && code ? ` (${code})` : ""}. Reconnecting to it…`,
  recognitionUnavailable:
    "Speech recognition is not reachable right now. Retrying; what you say meanwhile is kept for up to 30 seconds.",
  notConnectedYet: "Not connected to the session yet. Wait for Ready, then press Start.",
  nothingSent: "Nothing sent yet.",
  sending: "sending…",
  delivered: "delivered",
  refused: (detail) => `not accepted: ${detail}`,
  dynamics: ({ volumeLevel, rateWpm, emotion }) => `${volumeLevel}, ${rateWpm} wpm, ${emotion}`,
  ended: "Thank you for speaking. Listeners have been told the session is over.",
  endedReason: (reason) => `Thank you for speaking. (${reason})`,
  level: (percent) => `${percent} %`,
});

/** Transcribe's language code for the session's source language. */
export function transcribeLanguage(sourceLanguage) {
  const codes = {
    en: "en-US",
    es: "es-US",
    fr: "fr-FR",
    de: "de-DE",
    it: "it-IT",
    pt: "pt-BR",
    ja: "ja-JP",
    ko: "ko-KR",
    zh: "zh-CN",
  };
  if (typeof sourceLanguage !== "string" || !sourceLanguage) return "en-US";
  if (sourceLanguage.includes("-")) return sourceLanguage;
  return codes[sourceLanguage] || "en-US";
}
