// The listening view's controls: heading, language switch, pause, sound, notices and
// the end panel. Controls waiting for the server's answer stay focusable
// (aria-disabled): disabling a focused control would lose the keyboard focus.

import { fillLanguageOptions } from "./join-view.js";
import { SAY } from "./strings.js";

export class ListenView {
  constructor(el) {
    this.el = el; // section, title, language, session, switchLanguage, pause, leave,
    // notice, catchingUp, audioBlocked, speakerPaused, listenerPaused, ended, endedTitle, endedReason
    this.switchPending = false;
    this.pausePending = false;
  }

  /** `handlers`: switchLanguage(code), togglePause(), leave(), again(), resumeAudio(). */
  bind(handlers) {
    const { el } = this;
    el.switchLanguage.addEventListener("change", () => {
      if (this.switchPending) return; // the answer to the last change is on its way
      handlers.switchLanguage(el.switchLanguage.value);
    });
    el.pause.addEventListener("click", () => {
      if (!this.pausePending) handlers.togglePause();
    });
    el.leave.addEventListener("click", handlers.leave);
    el.again.addEventListener("click", handlers.again);
    el.resumeAudio.addEventListener("click", handlers.resumeAudio);
  }

  /** Open the view for a session just joined. */
  open({ sessionId, language }, languages, nameOf) {
    const { el } = this;
    fillLanguageOptions(el.switchLanguage, languages, nameOf);
    this.setLanguage(language, nameOf);
    el.session.textContent = sessionId;
    el.ended.hidden = true;
    el.leave.hidden = false;
    this.setSwitchPending(false);
    this.setPaused(false);
    this.setSpeakerPaused(false);
    this.setCatchingUp(false);
    this.setAudioBlocked(false);
    this.notice("");
    el.section.hidden = false;
    el.title.focus();
  }

  close() {
    this.el.section.hidden = true;
  }

  setLanguage(language, nameOf) {
    const { el } = this;
    el.switchLanguage.value = language;
    el.language.textContent = nameOf(language);
    el.language.lang = language;
  }

  setSwitchPending(pending, current) {
    this.switchPending = pending;
    setPending(this.el.switchLanguage, pending);
    if (!pending && current) this.el.switchLanguage.value = current;
  }

  setPaused(paused, { pending = false } = {}) {
    const { pause, listenerPaused } = this.el;
    this.pausePending = pending;
    setPending(pause, pending);
    if (pending) return;
    // Not a toggle: the button says what it does now ("Pause" or "Resume").
    pause.textContent = paused ? SAY.resume : SAY.pause;
    pause.classList.toggle("primary", paused);
    listenerPaused.hidden = !paused;
  }

  setSpeakerPaused(paused) {
    this.el.speakerPaused.hidden = !paused;
  }

  setCatchingUp(catchingUp) {
    this.el.catchingUp.hidden = !catchingUp;
  }

  setAudioBlocked(blocked) {
    this.el.audioBlocked.hidden = !blocked;
  }

  notice(text) {
    this.el.notice.textContent = text;
    this.el.notice.hidden = !text;
  }

  /** The end panel; the focus goes to it if its control (Leave) disappears. */
  showEnded(text) {
    const { el } = this;
    const focused = document.activeElement;
    el.leave.hidden = true;
    el.endedReason.textContent = text;
    el.ended.hidden = false;
    this.setCatchingUp(false);
    if (!focused || focused === document.body || focused === el.leave) el.endedTitle.focus();
  }
}

function setPending(control, pending) {
  if (pending) {
    control.setAttribute("aria-disabled", "true");
    control.setAttribute("aria-busy", "true");
  } else {
    control.removeAttribute("aria-disabled");
    control.removeAttribute("aria-busy");
  }
}

/**
 * Mute, volume, "Captions only" and "Show original sentences": applied at once and
 * remembered. Captions only asks the server for no audio at all (`setAudio(on)`):
 * nothing to download, and a language nobody hears is not synthesized.
 */
export class SoundControls {
  constructor(el, { playback, captions, preferences, setAudio = () => {} }) {
    this.el = el; // mute, volume, showSources, captionsOnly
    this.playback = playback;
    this.captions = captions;
    this.preferences = preferences;
    this.setAudio = setAudio;
    el.captionsOnly?.addEventListener("change", () => {
      preferences.set("captionsOnly", el.captionsOnly.checked);
      setAudio(!el.captionsOnly.checked);
    });
    el.volume.addEventListener("input", () => {
      this.#applyVolume();
      preferences.set("volume", el.volume.value);
      if (playback.muted && Number(el.volume.value) > 0) this.setMuted(false);
    });
    el.mute.addEventListener("click", () => this.setMuted(!playback.muted));
    el.showSources.addEventListener("change", () => {
      preferences.set("showSources", el.showSources.checked);
      captions.showSources(el.showSources.checked);
    });
  }

  /** Take the remembered settings. */
  restore() {
    const volume = this.preferences.volume();
    if (volume !== null) this.el.volume.value = String(volume);
    this.#applyVolume();
    this.setMuted(this.preferences.muted(), { remember: false });
    this.el.showSources.checked = this.preferences.showSources();
    this.captions.showSources(this.el.showSources.checked);
    if (this.el.captionsOnly) this.el.captionsOnly.checked = this.preferences.captionsOnly();
  }

  /** Whether the listener wants audio (for a session starting now). */
  get audioOn() {
    return !this.el.captionsOnly?.checked;
  }

  setMuted(muted, { remember = true } = {}) {
    this.playback.setMuted(muted);
    this.el.mute.setAttribute("aria-pressed", String(muted)); // the name stays "Mute"
    if (remember) this.preferences.set("muted", muted);
  }

  #applyVolume() {
    this.playback.setVolume(Number(this.el.volume.value) / 100);
    this.el.volume.setAttribute("aria-valuetext", SAY.volume(this.el.volume.value));
  }
}
