// The join page (/join?sessionId=…): the session's languages, each with its link and
// QR code; asks for the join code first when the session has one. Wiring only:
// join-session.js asks the server, strings.js names the languages.

import { listenerLink, rememberJoinCode, rememberedJoinCode, sessionLanguages } from "./join-session.js";
import { SAY, languageName, refusalText } from "./strings.js";

const $ = (id) => document.getElementById(id);
const nameOf = (code) => languageName(code, navigator.language);
const params = new URLSearchParams(location.search);
const sessionId = params.get("sessionId") || "";

function showError(text) {
  $("share-error").textContent = text;
  $("share-error").hidden = !text;
}

function qrImage(link, language) {
  // Drawn by the local runtime (/qr.svg, for its own links only); where no server
  // draws codes the link alone stays.
  const img = document.createElement("img");
  img.className = "qr";
  img.width = 200;
  img.height = 200;
  img.alt = `QR code: ${nameOf(language)}`;
  img.src = `qr.svg?data=${encodeURIComponent(link)}`;
  img.addEventListener("error", () => img.remove());
  return img;
}

function render(languages) {
  const list = $("share-languages");
  list.replaceChildren();
  for (const language of languages) {
    const link = listenerLink(location.href, sessionId, language);
    const item = document.createElement("li");
    item.className = "share-item";
    const anchor = document.createElement("a");
    anchor.href = link;
    anchor.lang = language;
    anchor.className = "share-link";
    anchor.textContent = nameOf(language);
    item.append(anchor, qrImage(link, language));
    list.append(item);
  }
}

async function load(config, joinCode) {
  const result = await sessionLanguages(config, sessionId, joinCode);
  if (result.ok === true) {
    rememberJoinCode(sessionId, joinCode);
    $("code-form").hidden = true;
    showError("");
    render(result.languages);
    return;
  }
  if (result.ok === false && (result.code === "JOIN_CODE_REQUIRED" || result.code === "JOIN_CODE_INVALID")) {
    rememberJoinCode(sessionId, "");
    $("code-form").hidden = false;
    if (joinCode) showError(refusalText(result.code, { sessionId, message: result.message }));
    $("code").focus();
    return;
  }
  if (result.ok === false) showError(refusalText(result.code, { sessionId, message: result.message }));
  else render(config.languages); // no session check here: every offered language
}

async function main() {
  $("share-session").textContent = sessionId;
  let config;
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    config = await response.json();
  } catch {
    showError(SAY.noSettings);
    return;
  }
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    load(config, $("code").value.trim());
  });
  await load(config, rememberedJoinCode(sessionId));
}

main();
