// Why a join would be refused.
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
// page falls back to generic wording (strings.js holds the words).

const DEFAULT_CHECK_URL = "sessions/{sessionId}";

/**
 * @param {object} [io]  `fetch` and the `base` URL to resolve against (the page's own
 *        by default; given in Node tests).
 * @returns {Promise<{ok: true} | {ok: false, code: string, message: string} | {ok: null}>}
 */
export async function checkSession(config, { sessionId, targetLanguage, joinCode }, io = {}) {
  const { fetch = globalThis.fetch, base = globalThis.document?.baseURI } = io;
  const template =
    config && "sessionCheckUrl" in config ? config.sessionCheckUrl : DEFAULT_CHECK_URL;
  if (!template) return { ok: null };
  let url;
  try {
    url = new URL(template.replace("{sessionId}", encodeURIComponent(sessionId)), base);
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

/**
 * The session check, with the refusal that matters most to the listener.
 *
 * A server checks the language before the session: the session's own source language
 * (always admitted) is only known once the session is found. So a mistyped session id
 * asked for in the speaker's language comes back as `UNSUPPORTED_LANGUAGE`, though the
 * truth is that the session does not exist. On that refusal ask once more with a
 * language the server offers to every session; if the session is missing or ended,
 * say that instead.
 */
export async function checkJoin(config, request, io = {}) {
  const check = await checkSession(config, request, io);
  if (check.ok !== false || check.code !== "UNSUPPORTED_LANGUAGE") return check;
  const offered = Array.isArray(config?.languages) ? config.languages : [];
  const other = offered.find((code) => code !== request.targetLanguage);
  if (!other) return check;
  const probe = await checkSession(config, { ...request, targetLanguage: other }, io);
  if (probe.ok === false && SESSION_GONE.has(probe.code)) return probe;
  return check;
}

const SESSION_GONE = new Set(["SESSION_NOT_FOUND", "SESSION_ENDED"]);

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
