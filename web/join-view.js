// The join form: session id, language, join code; its errors and where focus goes.

import { SAY } from "./strings.js";

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Fill a <select> with languages, each named in its own language (`lang` set). */
export function fillLanguageOptions(select, languages, nameOf) {
  select.replaceChildren();
  for (const code of languages) {
    const option = document.createElement("option");
    option.value = code;
    option.textContent = nameOf(code);
    option.lang = code;
    select.append(option);
  }
}

export class JoinView {
  constructor(el) {
    this.el = el; // section, form, sessionId, language, joinCodeField, joinCode, showJoinCode, error, start
    this.busy = false;
    el.showJoinCode.addEventListener("click", () => this.showJoinCode(true));
  }

  /** Called with the request when the form is sent with a well-formed session id. */
  onSubmit(handler) {
    this.el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.busy) return;
      const request = this.read();
      if (request) handler(request);
    });
  }

  prefill({ sessionId, joinCode }) {
    this.el.sessionId.value = sessionId || "";
    if (joinCode) {
      this.el.joinCode.value = joinCode;
      this.showJoinCode(false);
    }
  }

  fillLanguages(languages, nameOf, chosen) {
    fillLanguageOptions(this.el.language, languages, nameOf);
    if (chosen) this.el.language.value = chosen;
  }

  /** The form's request, or null after saying what is wrong with the session id. */
  read() {
    const request = {
      sessionId: this.el.sessionId.value.trim(),
      language: this.el.language.value,
      joinCode: this.el.joinCode.value.trim(),
    };
    if (!SESSION_ID.test(request.sessionId)) {
      this.showError(SAY.badSessionId);
      this.el.sessionId.setAttribute("aria-invalid", "true");
      this.el.sessionId.focus();
      return null;
    }
    this.el.sessionId.removeAttribute("aria-invalid");
    this.showError("");
    return request;
  }

  /**
   * While the session is checked the button stays focusable (aria-disabled, not
   * disabled: a disabled button would drop the keyboard focus to the page's start).
   */
  setBusy(busy) {
    this.busy = busy;
    if (busy) this.el.start.setAttribute("aria-disabled", "true");
    else this.el.start.removeAttribute("aria-disabled");
  }

  showError(text) {
    this.el.error.textContent = text;
    this.el.error.hidden = !text;
  }

  /** Say why the join was refused and put the focus on what to change. */
  showRefusal(code, text) {
    this.showError(text);
    if (code === "JOIN_CODE_REQUIRED" || code === "JOIN_CODE_INVALID") {
      this.showJoinCode(true);
      this.el.joinCode.select();
    } else if (code === "UNSUPPORTED_LANGUAGE") {
      this.el.language.focus();
    } else {
      this.el.sessionId.focus();
    }
  }

  showJoinCode(focus) {
    this.el.joinCodeField.hidden = false;
    this.el.showJoinCode.hidden = true;
    if (focus) this.el.joinCode.focus();
  }

  show(visible) {
    this.el.section.hidden = !visible;
  }

  focusFirst() {
    (this.el.sessionId.value ? this.el.start : this.el.sessionId).focus();
  }

  focusStart() {
    this.el.start.focus();
  }

  focusSessionId() {
    this.el.sessionId.select();
    this.el.sessionId.focus();
  }
}
