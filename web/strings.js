// Every sentence the listener page says, in one place (the page's language is English;
// `index.html` holds the static ones). Pure: no DOM, so Node's test runner checks it.

/** The status line's words for each connection state. */
export const STATUS_WORDS = Object.freeze({
  idle: "Not connected",
  checking: "Checking the session…",
  connecting: "Connecting…",
  live: "Live",
  paused: "Paused",
  reconnecting: "Reconnecting…",
  ended: "Session ended",
  error: "Not connected",
});

/**
 * A language's name in its own language, then in the browser's when they differ:
 * `español (Spanish)`. Falls back to the code where Intl does not know it.
 */
export function languageName(code, browserLanguage = "en") {
  try {
    const own = new Intl.DisplayNames([code], { type: "language" }).of(code);
    const here = new Intl.DisplayNames([browserLanguage || "en"], { type: "language" }).of(code);
    if (own && here && own.toLowerCase() !== here.toLowerCase()) return `${own} (${here})`;
    return own || here || code;
  } catch {
    return code;
  }
}

/** Why a session ended, in words (the sweeper's reasons are codes). */
export function endedReason(reason) {
  if (reason === "idle") return "the speaker was silent for a long time";
  if (reason === "maxDuration") return "it reached its maximum length";
  return typeof reason === "string" ? reason : "";
}

export function endedText(reason) {
  return reason ? `Thank you for listening. (${reason})` : "Thank you for listening.";
}

/** What to tell the listener about a refusal (codes from the session check). */
export function refusalText(code, { sessionId, languageName: language, message }) {
  switch (code) {
    case "SESSION_NOT_FOUND":
      return `There is no session “${sessionId}”. Check the session id or the link you were given.`;
    case "SESSION_ENDED":
      return `The session “${sessionId}” has ended.`;
    case "UNSUPPORTED_LANGUAGE":
      return `This session cannot be heard in ${language}. Pick another language.`;
    case "JOIN_CODE_REQUIRED":
      return "This session needs a join code. Enter the code you were given.";
    case "JOIN_CODE_INVALID":
      return "That join code is not right. Check it and try again.";
    case "SESSION_FULL":
      return "This session is full right now. Try again in a few minutes.";
    case "MISSING_FIELD":
    case "BAD_REQUEST":
      return `Check the session id and language${message ? `: ${message}` : "."}`;
    default:
      return "Could not join: the session may be unknown or ended, or it may need a join code.";
  }
}

/** The other things the page says, by occasion. */
export const SAY = Object.freeze({
  badSessionId: "Enter the session id, like golden-eagle-427 (letters, digits and dashes).",
  noSettings: "This page could not load its settings. Reload the page to try again.",
  offline: "You seem to be offline. Check your connection and try again.",
  connectionLost:
    "The connection was lost and could not be restored. Check your network and try again.",
  cannotConnect: "Could not connect to the live stream. Check your network and try again.",
  notConnectedNow: "Not connected right now. Try again in a moment.",
  nowListening: (language) => `Now listening in ${language}.`,
  switchRefused: (wanted, current) =>
    `This session cannot be heard in ${wanted}. Still listening in ${current}.`,
  switchFailed: (detail) => `Could not switch language: ${detail}`,
  serverSaid: (detail) => `The server said: ${detail}`,
  pause: "Pause",
  resume: "Resume",
  volume: (percent) => `${percent} %`,
  showOriginal: "Original",
  hideOriginal: "Hide original",
  arrivedLate: "arrived late",
  textOnly: "text only",
  audioSkipped: "audio skipped",
});

/** An error frame's detail, for the words above. */
export function errorDetail(message) {
  return message?.message || message?.code || "error";
}
