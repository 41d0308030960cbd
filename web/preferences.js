// What the page remembers between visits (language, volume, mute, original sentences,
// text size),
// and which language to offer first. Pure apart from the storage it is given.

const PREFIX = "polycast.";

/** localStorage where the browser allows it; nothing is kept in private mode. */
function browserStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export class Preferences {
  constructor(storage = browserStorage()) {
    this.storage = storage;
  }

  get(key) {
    try {
      return this.storage ? this.storage.getItem(PREFIX + key) : null;
    } catch {
      return null;
    }
  }

  set(key, value) {
    try {
      this.storage?.setItem(PREFIX + key, String(value));
    } catch {
      // Private mode or a full store: settings are simply not kept.
    }
  }

  /** The remembered volume (0..100), or null. */
  volume() {
    const value = this.get("volume");
    if (value === null || value.trim() === "") return null;
    const number = Number(value);
    return Number.isFinite(number) && number >= 0 && number <= 100 ? number : null;
  }

  muted() {
    return this.get("muted") === "true";
  }

  showSources() {
    return this.get("showSources") === "true";
  }

  /** The captions' text size: "normal", "large" or "x-large". */
  textSize() {
    const value = this.get("textSize");
    return TEXT_SIZES.includes(value) ? value : "normal";
  }

  captionsOnly() {
    return this.get("captionsOnly") === "true";
  }
}

export const TEXT_SIZES = Object.freeze(["normal", "large", "x-large"]);

/**
 * The first of `candidates` (the link's language, the last choice, the browser's
 * languages, in that order) that `languages` offers, matching `pt-BR` to `pt`.
 */
export function pickLanguage(languages, candidates) {
  for (const candidate of candidates) {
    if (!candidate) continue;
    const code = String(candidate);
    const match =
      languages.find((lang) => lang === code) ||
      languages.find((lang) => lang === code.split("-")[0]);
    if (match) return match;
  }
  return null;
}

/** The languages a listener may pick: the server's targets, plus the speaker's own. */
export function offeredLanguages(config) {
  const languages = [...config.languages];
  const source = config.sourceLanguage;
  if (typeof source === "string" && source && !languages.includes(source)) languages.push(source);
  return languages;
}
