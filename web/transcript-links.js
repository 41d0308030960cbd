// The "session ended" panel's downloads: the transcript in the listener's language and
// the speaker's own words, in each format the server writes.
//
//   GET <exportUrl>?sessionId=…&language=…&format=txt|srt|vtt|json
//
// `exportUrl` comes from config.json (the local gateway names its own `export`); without
// it, or null, there is none (a deployment serves no transcripts: organizers use
// `polycast session export`) and nothing is asked. The links appear only once the
// endpoint answers for this session, so an error page never shows as a broken link. A join code is
// never put in a link: a protected session's files are fetched with the code in a
// header and saved from memory.

const JOIN_CODE_HEADER = "X-Join-Code";
const NOT_ENDED_RETRIES = 3;
const RETRY_MS = 1500;

export const FORMATS = [
  { format: "txt", label: "Text" },
  { format: "srt", label: "SRT" },
  { format: "vtt", label: "WebVTT" },
  { format: "json", label: "JSON" },
];

/** The export URL for one file, or null where the server has no export endpoint. */
export function exportLink(config, { sessionId, language, format }, base) {
  const template = config?.exportUrl;
  if (!template || typeof template !== "string") return null;
  try {
    const url = new URL(template, base);
    url.search = new URLSearchParams({ sessionId, language, format }).toString();
    return url;
  } catch {
    return null;
  }
}

/**
 * Does the server offer this transcript? Asks for its JSON form once the session has
 * ended (a moment after `sessionEnded` the server may not have recorded the end yet:
 * a 409 is asked again a few times).
 * @returns {Promise<boolean>}
 */
export async function transcriptOffered(config, request, io = {}) {
  const {
    fetch = globalThis.fetch,
    base = globalThis.document?.baseURI,
    wait = (ms) => new Promise((done) => setTimeout(done, ms)),
  } = io;
  const url = exportLink(config, { ...request, format: "json" }, base);
  if (!url) return false;
  const headers = { Accept: "application/json" };
  if (request.joinCode) headers[JOIN_CODE_HEADER] = request.joinCode;
  for (let attempt = 0; attempt <= NOT_ENDED_RETRIES; attempt += 1) {
    let response;
    try {
      response = await fetch(url, { cache: "no-store", headers });
    } catch {
      return false;
    }
    const type = response.headers.get("Content-Type") || "";
    if (response.ok) return type.includes("json");
    if (response.status !== 409 || attempt === NOT_ENDED_RETRIES) return false;
    await wait(RETRY_MS);
  }
  return false;
}

/** Save a protected session's file: fetched with the code in a header, never in a URL. */
async function saveWithCode(url, joinCode, fileName) {
  const response = await fetch(url, { cache: "no-store", headers: { [JOIN_CODE_HEADER]: joinCode } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const save = document.createElement("a");
  save.href = href;
  save.download = fileName;
  save.hidden = true;
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

export class TranscriptLinks {
  /** @param {object} el  { box, list, error } — the panel's downloads, hidden until offered */
  constructor(el) {
    this.el = el;
    this.generation = 0;
  }

  clear() {
    this.generation += 1;
    this.el.box.hidden = true;
    this.el.list.replaceChildren();
    this.el.error.hidden = true;
  }

  /**
   * Offer the downloads of a session that has ended.
   * @param {object} request  { sessionId, language, sourceLanguage, joinCode }
   * @param {(code: string) => string} nameOf
   */
  async show(config, request, nameOf) {
    this.clear();
    const generation = this.generation;
    const { sessionId, language, sourceLanguage, joinCode } = request;
    const languages = [language];
    if (sourceLanguage && sourceLanguage !== language) languages.push(sourceLanguage);
    const offered = await transcriptOffered(config, { sessionId, language, joinCode });
    if (!offered || generation !== this.generation) return;
    for (const code of languages) {
      const original = code === sourceLanguage && code !== language;
      this.el.list.append(this.#row(config, { sessionId, language: code, joinCode }, original, nameOf));
    }
    this.el.box.hidden = false;
  }

  #row(config, { sessionId, language, joinCode }, original, nameOf) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "download-language";
    name.lang = language;
    name.textContent = original ? `${nameOf(language)} (original)` : nameOf(language);
    item.append(name);
    for (const { format, label } of FORMATS) {
      const url = exportLink(config, { sessionId, language, format }, document.baseURI);
      const fileName = `${sessionId}.${original ? "source-" : ""}${language}.${format}`;
      const link = document.createElement("a");
      link.href = url.toString();
      link.download = fileName;
      link.className = "download";
      link.textContent = label;
      const which = document.createElement("span");
      which.className = "visually-hidden";
      which.textContent = `, transcript in ${nameOf(language)}`;
      link.append(which);
      if (joinCode) {
        link.addEventListener("click", (event) => {
          event.preventDefault();
          this.el.error.hidden = true;
          saveWithCode(url, joinCode, fileName).catch(() => {
            this.el.error.hidden = false;
          });
        });
      }
      item.append(link);
    }
    return item;
  }
}
