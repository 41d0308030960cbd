// What the speaker sees: the status, the Start/Stop button, the level meter, the
// problem (alert), the notices (polite), the text being recognized and the sentences
// sent, each marked when the server acknowledged it.

import { microphoneProblem } from "./speaker-microphone.js";
import { SAY, SPEAKER_STATUS, microphoneText } from "./speaker-strings.js";

const MAX_SENTENCES = 200;
const METER_FLOOR_DB = -60; // the meter's empty end; 0 dBFS is full
const RECOVERED_NOTICE_MS = 10_000; // a recognition problem stays readable after recovery

/** Loudness in dBFS → the meter's 0..1. */
export function meterValue(level) {
  if (!Number.isFinite(level)) return 0;
  return Math.max(0, Math.min(1, (level - METER_FLOOR_DB) / -METER_FLOOR_DB));
}

export class SpeakerView {
  constructor(elements, { status, location = globalThis.location }) {
    this.el = elements;
    this.status = status;
    this.location = location;
    this.isTalking = false;
    this.connection = "idle";
    this.noticeTimer = null;
    this.noticeKind = "";
    this.microphoneHere = true;
  }

  setStatus(name) {
    const [state, words] = SPEAKER_STATUS[name];
    this.status.set(state, words);
  }

  /** The session connection's state; the status line combines it with talking. */
  connectionState(state) {
    this.connection = state;
    if (state === "live") {
      this.setStatus(this.isTalking ? "onAir" : this.microphoneHere ? "ready" : "noMicrophone");
      this.setNotice("");
      this.setTalkEnabled(this.microphoneHere);
    } else if (state === "reconnecting") {
      this.setStatus("reconnecting");
      this.setNotice(SAY.connectionLost);
    } else if (state === "connecting") {
      this.setStatus("connecting");
    }
  }

  setNotice(text, kind = "") {
    clearTimeout(this.noticeTimer);
    this.noticeTimer = null;
    this.noticeKind = text ? kind : "";
    this.el.notice.textContent = text;
    this.el.notice.hidden = !text;
  }

  showProblem(text) {
    this.el.problem.textContent = text || "";
    this.el.problem.hidden = !text;
  }

  setTalkEnabled(enabled) {
    if (enabled) this.el.talk.removeAttribute("aria-disabled");
    else this.el.talk.setAttribute("aria-disabled", "true");
  }

  get talkEnabled() {
    return this.el.talk.getAttribute("aria-disabled") !== "true";
  }

  talking(on) {
    this.isTalking = on;
    this.el.talk.textContent = on ? SAY.stop : SAY.start;
    this.el.talk.classList.toggle("primary", !on);
    this.el.talk.classList.toggle("stop", on);
    if (this.connection === "live") this.setStatus(on ? "onAir" : "ready");
  }

  /** A microphone failure (a DOMException, or null when it works again). */
  microphoneProblem(error, kind = null) {
    if (!error) {
      this.showProblem("");
      return;
    }
    const problem = kind || microphoneProblem(error);
    this.showProblem(microphoneText(problem));
    this.el.talk.focus();
  }

  /** The page cannot have a microphone here at all (insecure context, old browser). */
  noMicrophoneHere(problem) {
    this.microphoneHere = false;
    this.showProblem(
      microphoneText(problem, { host: this.location.hostname, port: this.location.port }),
    );
    this.setTalkEnabled(false);
    this.el.controls.hidden = true; // nothing to press: the problem says what to do
  }

  /** An exception from the recognition service; null once a stream is open again. */
  recognitionProblem(error) {
    if (error) {
      this.setNotice(SAY.recognitionSaid(error.code, error.message), "recognition");
      return;
    }
    if (this.noticeKind !== "recognition" || this.noticeTimer !== null) return;
    this.noticeTimer = setTimeout(() => this.setNotice(""), RECOVERED_NOTICE_MS);
  }

  recognitionUnavailable() {
    this.setNotice(SAY.recognitionUnavailable, "recognition");
  }

  level(level) {
    const value = level === null ? 0 : meterValue(level);
    this.el.level.value = value;
    this.el.level.setAttribute("aria-valuetext", SAY.level(Math.round(value * 100)));
  }

  liveText(text) {
    this.el.liveText.textContent = text || "…";
  }

  sentence({ sequence, text, emotionDynamics }) {
    const item = document.createElement("li");
    item.className = "sentence";
    item.dataset.sequence = String(sequence);
    item.dataset.state = "sending";
    const words = document.createElement("p");
    words.className = "text";
    words.textContent = text;
    const meta = document.createElement("p");
    meta.className = "meta";
    const number = document.createElement("span");
    number.textContent = `#${sequence}`;
    const state = document.createElement("span");
    state.className = "tag";
    state.textContent = SAY.sending;
    const dynamics = document.createElement("span");
    dynamics.textContent = SAY.dynamics(emotionDynamics);
    meta.append(number, " · ", state, " · ", dynamics);
    item.append(words, meta);
    this.el.sentences.append(item);
    while (this.el.sentences.children.length > MAX_SENTENCES) this.el.sentences.firstChild.remove();
    this.el.empty.hidden = true;
    this.el.scroller.scrollTop = this.el.scroller.scrollHeight;
  }

  #item(sequence) {
    return this.el.sentences.querySelector(`li[data-sequence="${sequence}"]`);
  }

  acked(sequence) {
    const item = this.#item(sequence);
    if (!item) return;
    item.dataset.state = "delivered";
    item.querySelector(".tag").textContent = SAY.delivered;
  }

  refused(sequence, error) {
    const item = this.#item(sequence);
    if (!item) return;
    item.dataset.state = "refused";
    item.querySelector(".tag").textContent = SAY.refused(error.message || error.code);
  }

  /** The connection was refused for good, or could not be restored. */
  cannotConnect(text) {
    this.setStatus("error");
    this.setNotice("");
    this.showProblem(text);
    this.setTalkEnabled(false);
    this.el.controls.hidden = true;
  }

  ended(reason) {
    this.setStatus("ended");
    this.setNotice("");
    this.showProblem("");
    this.setTalkEnabled(false);
    this.el.controls.hidden = true;
    this.el.endedReason.textContent = reason ? SAY.endedReason(reason) : SAY.ended;
    this.el.ended.hidden = false;
    this.el.endedTitle.focus();
  }
}
