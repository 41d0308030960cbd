// The status in the header (role="status": its words are announced politely).

import { STATUS_WORDS } from "./strings.js";

export class StatusLine {
  constructor(element, text) {
    this.element = element;
    this.text = text;
    this.state = element.dataset.state || "idle";
  }

  set(state, words = STATUS_WORDS[state]) {
    this.state = state;
    this.element.dataset.state = state; // the style (colour, pulse) follows it
    if (this.text.textContent !== words) this.text.textContent = words; // said once
  }
}
