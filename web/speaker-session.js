// One speaker's talk: microphone → recognition stream → sentences → the session's
// WebSocket. No DOM: the page passes a `view` (speaker-view.js) and factories for the
// microphone and the recognition stream, so Node's tests run it with fakes.
//
// The talk has one clock (ms since the speaker first pressed Start, advanced by the
// audio captured): a recognition stream's times start at 0 when it opens, so each
// stream remembers where it began on that clock, and a sentence's startMs/endMs and
// its loudness are read on it.
//
// While the recognition stream is not open (asking for its URL, reconnecting after
// the service closed it or the connection dropped) captured audio waits, up to 30 s,
// and is sent first when a stream opens: nothing said in a short gap is lost.

import {
  DeliveryMeter,
  LoudnessTrack,
  PartialPacer,
  dbfs,
  finalSentences,
  stableText,
  sumSquares,
} from "./speaker-sentences.js";

const SAMPLE_RATE = 16000;
const MAX_QUEUED_MS = 30_000;
const END_WAIT_MS = 5_000;
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000];

export class SpeakingSession {
  /**
   * @param {object} options
   * @param {import("./speaker-channel.js").SpeakerChannel} options.channel
   * @param {(handlers: {onChunk, onEnded}) => {start(): Promise<void>, stop(): void, running: boolean}} options.microphone
   * @param {(handlers: {url, onResult, onException, onClose}) => object} options.recognition
   * @param {string} options.languageCode
   * @param {object} options.view   what the speaker sees (speaker-view.js)
   */
  constructor({ channel, microphone, recognition, languageCode, view, now = () => performance.now() }) {
    this.channel = channel;
    this.view = view;
    this.languageCode = languageCode;
    this.newRecognition = recognition;
    this.now = now;
    this.microphone = microphone({
      onChunk: (pcm) => this.#chunk(pcm),
      onEnded: () => this.#microphoneLost(),
    });
    this.talking = false;
    this.ended = false;
    this.t0 = null;
    this.audioMs = 0;
    this.queue = []; // {startMs, pcm} waiting for a recognition stream
    this.stream = null;
    this.opening = false;
    this.retries = 0;
    this.retryTimer = null;
    this.loudness = new LoudnessTrack();
    this.meter = new DeliveryMeter();
    this.pacer = new PartialPacer();
  }

  /** The speaker pressed Start. Resolves once the microphone runs (or its problem is shown). */
  async start() {
    if (this.talking || this.ended) return;
    try {
      await this.microphone.start();
    } catch (error) {
      this.view.microphoneProblem(error);
      return;
    }
    this.view.microphoneProblem(null);
    if (this.t0 === null) this.t0 = this.now();
    this.audioMs = Math.max(this.audioMs, this.now() - this.t0);
    this.talking = true;
    this.view.talking(true);
    this.#openRecognition();
  }

  /** The speaker pressed Stop: the microphone stops, the last words are still recognized. */
  stop() {
    if (!this.talking) return;
    this.talking = false;
    this.microphone.stop();
    this.view.talking(false);
    this.view.level(null);
    this.#cancelRetry();
    this.queue = [];
    const stream = this.stream;
    if (stream) {
      stream.end();
      setTimeout(() => stream.close(), END_WAIT_MS);
    }
  }

  /** The session ended (the server said so): stop for good. */
  end(reason) {
    if (this.ended) return;
    this.stop();
    this.ended = true;
    this.stream?.close();
    this.channel.stop();
    this.view.ended(reason);
  }

  /** The session's connection changed state; a live one may unblock recognition. */
  connectionState(state) {
    if (state === "live" && this.talking && !this.stream) {
      this.#cancelRetry();
      this.#openRecognition();
    }
  }

  #microphoneLost() {
    this.stop();
    this.view.microphoneProblem({ name: "Lost" }, "lost");
  }

  #chunk(pcm) {
    if (!this.talking) return;
    const startMs = this.audioMs;
    this.audioMs += (pcm.length * 1000) / SAMPLE_RATE;
    this.loudness.add(startMs, pcm, SAMPLE_RATE);
    this.view.level(dbfs(sumSquares(pcm), pcm.length));
    if (this.stream && this.stream.isOpen && this.stream.sendAudio(pcm)) return;
    this.queue.push({ startMs, pcm });
    while (this.queue.length && this.audioMs - this.queue[0].startMs > MAX_QUEUED_MS) {
      this.queue.shift();
    }
  }

  async #openRecognition() {
    if (this.opening || this.stream || !this.talking) return;
    this.opening = true;
    let stream = null;
    try {
      const { url } = await this.channel.transcribeUrl({
        languageCode: this.languageCode,
        sampleRate: SAMPLE_RATE,
      });
      if (!this.talking) return;
      const holder = { offsetMs: null };
      stream = this.newRecognition({
        url,
        onResult: (result) => this.#result(result, holder.offsetMs ?? this.audioMs),
        onException: (error) => this.view.recognitionProblem(error),
        onClose: (info) => this.#streamClosed(stream, info),
      });
      await stream.open();
      if (!this.talking) {
        stream.close();
        return;
      }
      holder.offsetMs = this.queue.length ? this.queue[0].startMs : this.audioMs;
      for (const { pcm } of this.queue) stream.sendAudio(pcm);
      this.queue = [];
      this.stream = stream;
      this.retries = 0;
      this.view.recognitionProblem(null);
    } catch (error) {
      // Not connected yet: connectionState("live") retries. Otherwise back off.
      if (error?.code !== "NOT_CONNECTED") this.view.recognitionUnavailable();
      this.#retryLater();
    } finally {
      this.opening = false;
    }
  }

  #retryLater() {
    if (!this.talking || this.retryTimer !== null) return;
    const delay = RETRY_DELAYS_MS[Math.min(this.retries, RETRY_DELAYS_MS.length - 1)];
    this.retries += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.#openRecognition();
    }, delay);
  }

  #cancelRetry() {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  #streamClosed(stream, { clean }) {
    if (this.stream !== stream) return;
    this.stream = null;
    if (!this.talking || this.ended) return;
    // After an exception frame its own words stay (they say what happened).
    if (!clean && !stream.failed) this.view.recognitionUnavailable();
    this.#retryLater();
  }

  #result(result, offsetMs) {
    if (this.ended) return;
    const transcript = String(result?.Alternatives?.[0]?.Transcript ?? "");
    if (result.IsPartial) {
      this.view.liveText(transcript);
      const stable = stableText(result);
      if (this.pacer.offer(this.channel.nextSequence, stable, this.now())) {
        this.channel.sendPartial({ text: transcript, stableText: stable });
      }
      return;
    }
    this.view.liveText("");
    for (const sentence of finalSentences(result, offsetMs)) {
      const level = this.loudness.dbfs(sentence.startMs, sentence.endMs);
      const emotionDynamics = this.meter.measure(level, sentence.rateWpm);
      const sequence = this.channel.sendTranscript({
        transcriptText: sentence.text,
        emotionDynamics,
        startMs: sentence.startMs,
        endMs: sentence.endMs,
      });
      this.view.sentence({ sequence, text: sentence.text, emotionDynamics });
    }
  }
}
