// The captions: a list to read and browse, an announcer that says each final caption
// once, and the live line (the sentence still being spoken).
//
// Screen readers: the list is not a live region (its items hold buttons, and a live
// region would read them out with every caption). Each final caption's text goes, once,
// into #announcer (role="log", polite), with its `lang`, so it is read in the right
// voice. The live line is aria-hidden and replaced in place: provisional words are
// never announced; the final caption replaces it.

import { SAY } from "./strings.js";

const MAX_CAPTIONS = 500;
const MAX_ANNOUNCED = 5; // kept in the announcer: older ones only repeat the list
const NEAR_BOTTOM_PX = 48;

export class CaptionsView {
  /**
   * @param {object} parts  the elements: scroller, list, liveLine, announcer, empty, jump
   * @param {object} [options]
   * @param {() => string} [options.sourceLanguage]  the `lang` of the original sentences
   */
  constructor({ scroller, list, liveLine, announcer, empty, jump }, { sourceLanguage } = {}) {
    Object.assign(this, { scroller, list, liveLine, announcer, empty, jump });
    this.sourceLanguage = sourceLanguage ?? (() => "");
    this.sourcesShown = false;
    this.liveSequence = null;
    scroller.addEventListener("scroll", () => {
      if (this.#nearBottom()) jump.hidden = true;
    });
    jump.addEventListener("click", () => {
      this.#toBottom();
      jump.hidden = true;
      scroller.focus();
    });
  }

  clear() {
    this.list.replaceChildren();
    this.announcer.replaceChildren();
    this.clearLiveLine();
    this.empty.hidden = false;
    this.jump.hidden = true;
  }

  /** The listener is no longer waiting for a first caption (e.g. the session ended). */
  stopWaiting() {
    this.empty.hidden = true;
  }

  /** Add a final caption in sequence order, and announce it once. */
  add(segment, { late = false, language = "" } = {}) {
    const stick = this.#nearBottom();
    const lang = segment.language || language;
    const item = document.createElement("li");
    item.className = "caption";
    item.id = `caption-${segment.sequence}`;
    item.dataset.sequence = String(segment.sequence);

    const text = document.createElement("p");
    text.className = "text";
    if (lang) text.lang = lang;
    text.textContent = segment.text;
    item.append(text);

    const meta = document.createElement("div");
    meta.className = "meta";
    item.append(meta);
    if (segment.sourceText) {
      const source = document.createElement("p");
      source.className = "source";
      source.id = `source-${segment.sequence}`;
      const sourceLanguage = this.sourceLanguage();
      if (sourceLanguage) source.lang = sourceLanguage;
      source.textContent = segment.sourceText;
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "source-toggle";
      toggle.setAttribute("aria-controls", source.id);
      toggle.addEventListener("click", () => showSource(toggle, source, source.hidden));
      showSource(toggle, source, this.sourcesShown);
      meta.append(toggle);
      item.append(source);
    }
    if (late) {
      addTag(meta, SAY.arrivedLate);
      item.classList.add("late");
    } else if (!segment.audio) {
      addTag(meta, SAY.textOnly);
    }

    // Keep sequence order even for a late arrival.
    let before = null;
    for (let node = this.list.lastElementChild; node; node = node.previousElementSibling) {
      if (Number(node.dataset.sequence) < segment.sequence) break;
      before = node;
    }
    this.list.insertBefore(item, before);
    while (this.list.children.length > MAX_CAPTIONS) this.list.firstElementChild.remove();
    if (this.liveSequence !== null && segment.sequence >= this.liveSequence) this.clearLiveLine();
    this.#announce(segment.text, lang);
    this.empty.hidden = true;
    if (stick) this.#toBottom();
    else this.jump.hidden = false;
  }

  /** A caption's audio state: being spoken (aria-current), done, or skipped to catch up. */
  mark(sequence, state) {
    const item = document.getElementById(`caption-${sequence}`);
    if (!item) return;
    item.classList.remove("speaking");
    item.removeAttribute("aria-current");
    if (state === "speaking") {
      item.classList.add("speaking");
      item.setAttribute("aria-current", "true");
    } else if (state === "skipped" && !item.classList.contains("skipped")) {
      item.classList.add("skipped");
      addTag(item.querySelector(".meta"), SAY.audioSkipped);
    }
  }

  /** Show or hide every original sentence (the "Show original sentences" switch). */
  showSources(shown) {
    const stick = this.#nearBottom();
    this.sourcesShown = shown;
    for (const item of this.list.querySelectorAll(".caption")) {
      const toggle = item.querySelector(".source-toggle");
      const source = item.querySelector(".source");
      if (toggle && source) showSource(toggle, source, shown);
    }
    if (stick) this.#toBottom();
  }

  /**
   * The sentence being spoken, as far as it goes: one element, its text replaced in
   * place, aria-hidden (announced only when final). A final caption of this sequence
   * or later removes it.
   */
  showLiveLine(sequence, text, language) {
    if (!text) {
      this.clearLiveLine();
      return;
    }
    const stick = this.#nearBottom();
    this.liveSequence = sequence;
    this.liveLine.dataset.sequence = String(sequence);
    if (language) this.liveLine.lang = language;
    this.liveLine.textContent = text;
    this.liveLine.hidden = false;
    this.empty.hidden = true;
    if (stick) this.#toBottom();
  }

  clearLiveLine() {
    this.liveSequence = null;
    this.liveLine.hidden = true;
    this.liveLine.textContent = "";
    delete this.liveLine.dataset.sequence;
  }

  #announce(text, lang) {
    if (!text) return;
    const line = document.createElement("p");
    if (lang) line.lang = lang;
    line.textContent = text;
    this.announcer.append(line);
    while (this.announcer.children.length > MAX_ANNOUNCED) {
      this.announcer.firstElementChild.remove();
    }
  }

  #nearBottom() {
    const el = this.scroller;
    return el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
  }

  #toBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}

function showSource(toggle, source, shown) {
  source.hidden = !shown;
  toggle.setAttribute("aria-expanded", String(shown));
  toggle.textContent = shown ? SAY.hideOriginal : SAY.showOriginal;
}

function addTag(meta, words) {
  const tag = document.createElement("span");
  tag.className = "tag";
  tag.textContent = words;
  meta?.append(tag);
}
