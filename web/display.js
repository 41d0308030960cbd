// The big-screen view (?sessionId=…&targetLanguage=es&view=display[&also=fr]): large
// high-contrast captions, one or two languages side by side, the line being spoken,
// the last few lines kept, no controls. Captions only (audio off).

import { ListenerConnection } from "./connection.js";
import { rememberJoinCode, rememberedJoinCode, sessionLanguages } from "./join-session.js";
import { languageName, refusalText } from "./strings.js";

export const KEEP_LINES = 4;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const sessionId = params.get("sessionId") || "";
const languages = [params.get("targetLanguage"), params.get("also")]
  .filter(Boolean)
  .filter((code, index, all) => all.indexOf(code) === index)
  .slice(0, 2);

/** One language's column: its final lines (newest last) and its live line. */
class Column {
  constructor(language) {
    this.language = language;
    this.el = document.createElement("section");
    this.el.className = "display-column";
    this.el.lang = language;
    const title = document.createElement("h2");
    title.className = "display-language";
    title.textContent = languageName(language, language);
    this.lines = document.createElement("ol");
    this.lines.className = "display-lines";
    this.live = document.createElement("p");
    this.live.className = "display-live";
    this.live.setAttribute("aria-hidden", "true"); // announced once, when final
    this.el.setAttribute("aria-label", languageName(language, "en"));
    this.el.append(title, this.lines, this.live);
    this.last = 0;
  }

  segment(message) {
    if (message.sequence <= this.last && this.lines.querySelector(`[data-sequence="${message.sequence}"]`)) return;
    const line = document.createElement("li");
    line.dataset.sequence = String(message.sequence);
    line.textContent = message.text;
    const after = [...this.lines.children].find((li) => Number(li.dataset.sequence) > message.sequence);
    this.lines.insertBefore(line, after || null);
    while (this.lines.children.length > KEEP_LINES) this.lines.firstElementChild.remove();
    this.last = Math.max(this.last, message.sequence);
    if (Number(this.live.dataset.sequence) <= message.sequence) this.live.textContent = "";
  }

  partial(message) {
    if (message.sequence <= this.last) return;
    this.live.dataset.sequence = String(message.sequence);
    this.live.textContent = message.text;
  }
}

function say(text) {
  $("display-status").textContent = text;
}

function connect(config, joinCode) {
  const columns = $("display-columns");
  columns.dataset.count = String(languages.length);
  for (const language of languages) {
    const column = new Column(language);
    columns.append(column.el);
    const query = new URLSearchParams({ sessionId, targetLanguage: language });
    if (joinCode) query.set("joinCode", joinCode);
    const connection = new ListenerConnection({
      url: `${config.websocketUrl}/?${query}`,
      resumeFrom: () => column.last || null,
      shouldRetry: async ({ attempt }) => attempt < 100,
      onState: (state) => {
        if (state === "live") {
          connection.send({ action: "audio", on: false });
          say("");
        } else if (state === "reconnecting") say("Reconnecting…");
      },
      onMessage: (message) => {
        if (message.type === "segment") column.segment(message);
        else if (message.type === "partial") column.partial(message);
        else if (message.type === "sessionEnded") {
          say("The session has ended. Thank you.");
          connection.stop();
        }
      },
    });
    connection.start();
  }
}

async function main() {
  if (!sessionId || !languages.length) {
    say("Open this view with ?sessionId=…&targetLanguage=…&view=display");
    return;
  }
  const config = await (await fetch("config.json", { cache: "no-store" })).json();
  const start = async (joinCode) => {
    const check = await sessionLanguages(config, sessionId, joinCode);
    if (check.ok === false && check.code.startsWith("JOIN_CODE")) {
      $("display-code").hidden = false;
      $("display-code-input").focus();
      if (joinCode) say(refusalText(check.code, { sessionId }));
      return;
    }
    if (check.ok === false) {
      say(refusalText(check.code, { sessionId, message: check.message }));
      return;
    }
    rememberJoinCode(sessionId, joinCode);
    $("display-code").hidden = true;
    connect(config, joinCode);
  };
  $("display-code").addEventListener("submit", (event) => {
    event.preventDefault();
    start($("display-code-input").value.trim());
  });
  await start(rememberedJoinCode(sessionId));
}

main();
