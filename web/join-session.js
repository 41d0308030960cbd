// What the join page and the listener page learn about one session, and the join
// code a listener typed (asked for once per tab, kept in sessionStorage, never in a
// link). Pure apart from the storage and fetch it is given.

import { checkSession } from "./session-check.js";

const CODE_KEY = "polycast.joinCode.";

function tabStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export function rememberedJoinCode(sessionId, storage = tabStorage()) {
  try {
    return (sessionId && storage?.getItem(CODE_KEY + sessionId)) || "";
  } catch {
    return "";
  }
}

export function rememberJoinCode(sessionId, code, storage = tabStorage()) {
  try {
    if (code) storage?.setItem(CODE_KEY + sessionId, code);
    else storage?.removeItem(CODE_KEY + sessionId);
  } catch {
    // Private mode: the listener is asked again next time.
  }
}

/**
 * The session's languages, as its check answers them: the announced ones first, then
 * the speaker's own; with none announced, every language the server offers.
 * @returns {Promise<{ok: true, languages: string[], sourceLanguage: string} | {ok: false, code, message} | {ok: null}>}
 */
export async function sessionLanguages(config, sessionId, joinCode, io = {}) {
  const probe = Array.isArray(config?.languages) ? config.languages[0] : "";
  const check = await checkSession(config, { sessionId, targetLanguage: probe, joinCode }, io);
  if (check.ok !== true) return check;
  const announced = Array.isArray(check.languages) ? check.languages : [];
  const languages = announced.length ? [...announced] : [...(config.languages || [])];
  const source = check.sourceLanguage || config.sourceLanguage;
  if (source && !languages.includes(source)) languages.push(source);
  return { ok: true, languages, sourceLanguage: source || "" };
}

/** The listener page's link for one language (no join code, ever). */
export function listenerLink(base, sessionId, language, extra = {}) {
  const url = new URL("./", base);
  url.search = new URLSearchParams({ sessionId, targetLanguage: language, ...extra }).toString();
  return url.toString();
}
