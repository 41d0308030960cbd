// Audio playback: one <audio> element plays the released segments one after another
// from a queue that holds at most ~10 s (reorder.js decides what is dropped).

import { PlaybackQueue } from "./reorder.js";

/** A moment of silence as an 8-bit mono WAV file (pure: tested in Node). */
export function silentWav(rate = 8000, seconds = 0.1) {
  const samples = Math.round(rate * seconds);
  const wav = new Uint8Array(44 + samples);
  const view = new DataView(wav.buffer);
  const ascii = (offset, text) => {
    for (let i = 0; i < text.length; i += 1) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + samples, true);
  ascii(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate, true); // bytes per second
  view.setUint16(32, 1, true); // block align
  view.setUint16(34, 8, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, samples, true);
  wav.fill(128, 44); // 8-bit PCM silence is the midpoint
  return wav;
}

export class Playback {
  /**
   * @param {HTMLAudioElement} player
   * @param {object} events
   * @param {(sequence: number, state: "speaking"|"spoken"|"skipped") => void} events.onCaption
   * @param {(blocked: boolean) => void} events.onBlocked   the browser refused to play
   * @param {(catchingUp: boolean) => void} events.onCatchingUp
   */
  constructor(player, { onCaption, onBlocked, onCatchingUp, maxQueuedSeconds = 10 }) {
    this.player = player;
    this.onCaption = onCaption;
    this.onBlocked = onBlocked;
    this.onCatchingUp = onCatchingUp;
    this.queue = new PlaybackQueue({ maxSeconds: maxQueuedSeconds });
    this.current = null; // { segment, url, own }
    player.addEventListener("playing", () => {
      if (this.current) this.onBlocked(false);
    });
    player.addEventListener("ended", () => this.#finish());
    player.addEventListener("error", () => this.#finish());
  }

  /** Browsers only play sound after a tap: play a moment of silence inside the tap. */
  unlock() {
    const url = URL.createObjectURL(new Blob([silentWav()], { type: "audio/wav" }));
    this.player.src = url;
    this.player.play().catch(() => {});
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }

  /** Queue a released segment that has audio; the oldest may be dropped to stay live. */
  push(segment) {
    for (const dropped of this.queue.push(segment)) this.onCaption(dropped.sequence, "skipped");
    this.onCatchingUp(this.queue.catchingUp);
    this.#next();
  }

  /** The listener tapped "Tap to hear the audio". */
  retry() {
    this.onBlocked(false);
    this.player.play().catch(() => this.onBlocked(true));
  }

  /** Stop and forget everything queued (leaving, pausing, switching language). */
  stop() {
    this.queue.clear();
    const current = this.current;
    this.current = null;
    if (current) {
      if (current.own) URL.revokeObjectURL(current.url);
      this.onCaption(current.segment.sequence, "spoken");
    }
    this.onCatchingUp(false);
    this.player.pause();
    this.player.removeAttribute("src");
    this.player.load();
  }

  /** Drop what waits (the language changed) but let the sentence playing finish. */
  clearQueue() {
    this.queue.clear();
    this.onCatchingUp(false);
  }

  setVolume(fraction) {
    this.player.volume = Math.min(1, Math.max(0, fraction));
  }

  setMuted(muted) {
    this.player.muted = muted;
  }

  get muted() {
    return this.player.muted;
  }

  #next() {
    if (this.current) return;
    const segment = this.queue.shift();
    this.onCatchingUp(this.queue.catchingUp);
    if (!segment) return;
    const own = !segment.audio.url;
    const url = own
      ? URL.createObjectURL(new Blob([segment.audio.bytes], { type: "audio/mpeg" }))
      : segment.audio.url;
    this.current = { segment, url, own };
    this.onCaption(segment.sequence, "speaking");
    this.player.src = url;
    this.player.play().catch((err) => {
      if (this.current?.segment !== segment) return;
      if (err && err.name === "NotAllowedError") this.onBlocked(true); // a tap plays it
      else this.#finish();
    });
  }

  #finish() {
    const current = this.current;
    if (!current) return;
    this.current = null;
    if (current.own) URL.revokeObjectURL(current.url);
    this.onCaption(current.segment.sequence, "spoken");
    this.#next();
  }
}
