// Why a join would be refused, in words.
//
// A browser cannot read the status or body of a refused WebSocket upgrade, so before
// connecting (and after a connect fails) the page asks the server:
//
//   GET <sessionCheckUrl>?targetLanguage=es[&joinCode=…]
//   200 {"ok": true, ...}                      the join would be accepted
//   4xx/503 {"code": "...", "message": "..."}  the refusal the WebSocket would give
//
// `sessionCheckUrl` comes from config.json (`{sessionId}` is replaced); without it the
// page tries `sessions/{sessionId}` beside itself. Where no such endpoint exists (a
// static deployment answers with HTML/XML or nothing), the check says "unknown" and the
// page falls back to generic wording.

const DEFAULT_CHECK_URL = "sessions/{sessionId}";

/** @returns {Promise<{ok: true} | {ok: false, code: string, message: string} | {ok: null}>} */
export async function checkSession(config, { sessionId, targetLanguage, joinCode }) {
  const template =
    config && "sessionCheckUrl" in config ? config.sessionCheckUrl : DEFAULT_CHECK_URL;
  if (!template) return { ok: null };
  let url;
  try {
    url = new URL(template.replace("{sessionId}", encodeURIComponent(sessionId)), document.baseURI);
  } catch {
    return { ok: null };
  }
  url.searchParams.set("targetLanguage", targetLanguage);
  if (joinCode) url.searchParams.set("joinCode", joinCode);
  let response;
  let body;
  try {
    response = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("json")) return { ok: null };
    body = await response.json();
  } catch {
    return { ok: null };
  }
  if (response.ok && body && body.ok === true) return { ok: true, ...body };
  if (body && typeof body.code === "string") {
    return {
      ok: false,
      status: response.status,
      code: body.code,
      message: typeof body.message === "string" ? body.message : "",
    };
  }
  return { ok: null };
}

/** Codes after which trying again cannot help until the listener changes something. */
export const FINAL_CODES = new Set([
  "MISSING_FIELD",
  "BAD_REQUEST",
  "SESSION_NOT_FOUND",
  "SESSION_ENDED",
  "UNSUPPORTED_LANGUAGE",
  "JOIN_CODE_REQUIRED",
  "JOIN_CODE_INVALID",
  "SESSION_FULL",
]);

/** What to tell the listener about a refusal. */
export function refusalText(code, { sessionId, languageName, message }) {
  switch (code) {
    case "SESSION_NOT_FOUND":
      return `There is no session “${sessionId}”. Check the session id or the link you were given.`;
    case "SESSION_ENDED":
      return `The session “${sessionId}” has ended.`;
    case "UNSUPPORTED_LANGUAGE":
      return `This session cannot be heard in ${languageName}. Pick another language.`;
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
