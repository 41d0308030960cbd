// One listening session: the connection, the messages it brings, the order they are
// shown and played in, and the listener's controls (switch language, pause) with the
// server's answers. The views and the session check are given to it.

import { ListenerConnection } from "./connection.js";
import { PartAssembler, SegmentOrder } from "./reorder.js";
import { FINAL_CODES } from "./session-check.js";
import { SAY, endedReason, endedText, errorDetail } from "./strings.js";

const GAP_TIMEOUT_MS = 3000;
const CATCH_UP_WAIT_MS = 10_000;
const MAX_RETRIES_UNCHECKED = 8;
const MAX_RETRIES_BEFORE_LIVE = 5;

export class ListeningSession {
  /**
   * @param {object} deps
   * @param {object} deps.request  { sessionId, language, joinCode }
   * @param {string} deps.websocketUrl
   * @param {object} deps.views  { status, listen, captions }
   * @param {object} deps.playback
   * @param {(request) => Promise<object>} deps.check  the session check (checkJoin)
   * @param {(code: string, message: string) => void} deps.onRefused  back to the form
   * @param {(text: string) => void} deps.onGaveUp  back to the form with these words
   * @param {(language: string) => void} deps.onLanguage  the language changed
   * @param {(code: string) => string} deps.nameOf
   * @param {(language: string) => void} [deps.onEnded]  the session ended (in this language)
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.language = deps.request.language;
    this.order = new SegmentOrder({ gapTimeoutMs: GAP_TIMEOUT_MS });
    this.assembler = new PartAssembler();
    this.gapTimer = null;
    this.ended = false;
    this.left = false;
    this.state = "connecting";
    this.paused = false; // the listener paused: the server sends nothing until resume
    this.pausing = null; // a pause (true) or resume (false) waiting for its ack
    this.switching = null; // a language waiting for its switchLanguage ack
    this.speakerPaused = false;
    this.audioOn = deps.audioOn ?? true; // false: captions only (the server sends no audio)

    const url = new URL(deps.websocketUrl, globalThis.location?.href);
    url.searchParams.set("sessionId", deps.request.sessionId);
    url.searchParams.set("targetLanguage", this.language);
    if (deps.request.joinCode) url.searchParams.set("joinCode", deps.request.joinCode);
    this.connection = new ListenerConnection({
      url: url.toString(),
      onMessage: (message) => this.#onMessage(message),
      onState: (state) => this.#onConnectionState(state),
      resumeFrom: () => this.order.lastReleased,
      onCatchUp: () => {
        this.order.waitUntil(performance.now() + CATCH_UP_WAIT_MS);
        this.#scheduleGap();
      },
      shouldRetry: (info) => this.#shouldRetry(info),
    });
  }

  start() {
    this.connection.start();
  }

  /** Stop for good: the listener left, or the page went back to the form. */
  stop() {
    this.left = true;
    this.ended = true;
    this.connection.stop();
    clearTimeout(this.gapTimer);
    this.playback.stop();
  }

  // -------------------------------------------------------------- listener controls

  /** Audio on, or captions only: told to the server now, and again on every new connection. */
  setAudio(on) {
    this.audioOn = on;
    if (this.state === "live") this.connection.send({ action: "audio", on });
  }

  switchLanguage(language) {
    const { listen } = this.views;
    if (this.ended || language === this.language) return;
    if (!this.connection.send({ action: "switchLanguage", targetLanguage: language })) {
      listen.setSwitchPending(false, this.language);
      listen.notice(SAY.notConnectedNow);
      return;
    }
    this.switching = language;
    listen.setSwitchPending(true);
  }

  togglePause() {
    if (this.ended || this.pausing !== null) return;
    const want = !this.paused;
    if (!this.connection.send({ action: want ? "pause" : "resume" })) {
      this.#applyPause(want); // offline: the next connection is told on open
      return;
    }
    this.pausing = want;
    this.views.listen.setPaused(this.paused, { pending: true });
  }

  #applySwitch(language) {
    const { listen } = this.views;
    this.switching = null;
    this.language = language;
    listen.setSwitchPending(false);
    listen.setLanguage(language, this.nameOf);
    const url = new URL(this.connection.url);
    url.searchParams.set("targetLanguage", language); // a reconnect keeps the new language
    this.connection.url = url.toString();
    // Start from the next sentence in the new language; drop queued old-language audio.
    this.order.liveEdge();
    this.assembler = new PartAssembler();
    this.playback.clearQueue();
    this.views.captions.clearLiveLine();
    clearTimeout(this.gapTimer);
    listen.notice(SAY.nowListening(this.nameOf(language)));
    this.onLanguage(language);
  }

  #cancelSwitch() {
    this.switching = null;
    this.views.listen.setSwitchPending(false, this.language);
  }

  #applyPause(paused) {
    const was = this.paused;
    this.pausing = null;
    this.paused = paused;
    this.views.listen.setPaused(paused);
    this.views.listen.notice("");
    if (paused && !was) {
      this.playback.stop();
      this.views.captions.clearLiveLine();
    }
    if (!paused && was) this.order.liveEdge(); // continue from where the speaker is now
    if (this.state === "live") this.views.status.set(paused ? "paused" : "live");
  }

  #setSpeakerPaused(paused) {
    this.speakerPaused = paused;
    this.views.listen.setSpeakerPaused(paused);
  }

  // -------------------------------------------------------------- the connection

  #onConnectionState(state) {
    if (this.ended || state === "closed") return; // leaving or giving up says its own
    this.state = state;
    if (state !== "live") {
      // An answer that was on its way is lost with the connection: settle locally.
      if (this.switching !== null) this.#cancelSwitch();
      if (this.pausing !== null) this.#applyPause(this.pausing);
    } else {
      // A new connection starts unpaused and with audio.
      if (this.paused) this.connection.send({ action: "pause" });
      if (!this.audioOn) this.connection.send({ action: "audio", on: false });
    }
    this.views.status.set(state === "live" && this.paused ? "paused" : state);
  }

  /** After a failed or dropped connection: ask the server why, then retry or explain. */
  async #shouldRetry({ everLive, wasLive, attempt }) {
    if (this.ended) return false;
    if (wasLive) return true; // it just dropped: reconnect at once
    const check = await this.check({ ...this.request, targetLanguage: this.language });
    if (this.ended) return false;
    if (check.ok === false && FINAL_CODES.has(check.code)) {
      if (check.code === "SESSION_ENDED" && everLive) this.#end("");
      else this.onRefused(check.code, check.message);
      return false;
    }
    if (check.ok === null && !everLive) {
      if (globalThis.navigator?.onLine === false) this.onGaveUp(SAY.offline);
      else this.onRefused("", ""); // no way to ask why: the generic wording
      return false;
    }
    const limit = check.ok === true ? MAX_RETRIES_BEFORE_LIVE : MAX_RETRIES_UNCHECKED;
    if (attempt >= limit && !(everLive && check.ok === true)) {
      this.onGaveUp(everLive ? SAY.connectionLost : SAY.cannotConnect);
      return false;
    }
    return true;
  }

  // -------------------------------------------------------------- messages

  #onMessage(message) {
    if (this.left) return;
    switch (message.type) {
      case "segment":
        if (this.switching !== null && message.language === this.switching) {
          this.#applySwitch(this.switching); // the segment beat its ack here
        }
        if (this.speakerPaused) this.#setSpeakerPaused(false); // they speak again
        if (!this.ended && !this.paused) this.#onSegment(message);
        break;
      case "partial":
        this.#onPartial(message);
        break;
      case "sessionEnded":
        this.#end(endedReason(message.reason));
        break;
      case "sessionPaused":
        this.#setSpeakerPaused(true);
        break;
      case "sessionResumed":
        this.#setSpeakerPaused(false);
        break;
      case "ack":
        this.#onAck(message);
        break;
      case "error":
        this.#onError(message);
        break;
      default:
        break; // pong and anything newer: nothing to show
    }
  }

  #onAck(message) {
    if (message.action === "switchLanguage" && typeof message.targetLanguage === "string") {
      if (message.targetLanguage !== this.language) this.#applySwitch(message.targetLanguage);
      else this.#cancelSwitch();
    } else if (message.action === "pause" || message.action === "resume") {
      this.#applyPause(message.action === "pause");
    } else if (message.action === "catchUp") {
      this.order.waitUntil(0); // what filled the gaps has come
      this.#scheduleGap();
    }
  }

  #onError(message) {
    const { listen } = this.views;
    if (this.switching !== null) {
      const wanted = this.switching;
      this.#cancelSwitch();
      listen.notice(
        message.code === "UNSUPPORTED_LANGUAGE"
          ? SAY.switchRefused(this.nameOf(wanted), this.nameOf(this.language))
          : SAY.switchFailed(errorDetail(message)),
      );
      return;
    }
    if (this.pausing !== null) {
      this.pausing = null;
      listen.setPaused(this.paused);
    }
    listen.notice(SAY.serverSaid(errorDetail(message)));
  }

  /** The sentence being spoken, replaced in place until its final segment comes. */
  #onPartial(message) {
    if (this.ended || this.paused || typeof message.text !== "string") return;
    if (!Number.isInteger(message.sequence) || message.language !== this.language) return;
    const last = this.order.lastReleased;
    if (last !== null && message.sequence <= last) return; // its final is already shown
    this.views.captions.showLiveLine(message.sequence, message.text, this.language);
  }

  #onSegment(message) {
    if (!Number.isInteger(message.sequence) || message.sequence < 0) return;
    if (message.language && message.language !== this.language) return;
    let segment;
    try {
      segment = this.assembler.add(message);
    } catch {
      return; // undecodable audio: the same segment may come again whole
    }
    if (!segment) return;
    const result = this.order.accept(segment, performance.now());
    if (result.late) this.views.captions.add(result.late, { late: true, language: this.language });
    for (const released of result.released) this.#release(released);
    this.#scheduleGap();
  }

  #scheduleGap() {
    clearTimeout(this.gapTimer);
    const deadline = this.order.deadline();
    if (deadline === null || this.ended) return;
    this.gapTimer = setTimeout(
      () => {
        if (this.ended) return;
        for (const segment of this.order.tick(performance.now())) this.#release(segment);
        const last = this.order.lastReleased;
        if (last !== null) this.assembler.discardThrough(last);
        this.#scheduleGap();
      },
      Math.max(0, deadline - performance.now()) + 5,
    );
  }

  #release(segment) {
    this.views.captions.add(segment, { language: this.language });
    if (segment.audio) this.playback.push(segment);
  }

  #end(reason) {
    if (this.ended) return;
    this.ended = true;
    this.connection.stop();
    clearTimeout(this.gapTimer);
    // Whatever is held behind a gap will not be completed now: show it.
    while (this.order.deadline() !== null) {
      for (const segment of this.order.tick(Number.POSITIVE_INFINITY)) this.#release(segment);
    }
    this.views.captions.clearLiveLine();
    this.views.captions.stopWaiting();
    this.views.status.set("ended");
    this.views.listen.showEnded(endedText(reason));
    this.onEnded?.(this.language);
  }
}
