// The microphone: getUserMedia → AudioContext → the `pcm-capture` worklet
// (pcm-worklet.js) → 16 kHz mono 16-bit PCM chunks of 100 ms.
//
// Browsers give `navigator.mediaDevices` only to a secure context: HTTPS, or plain
// HTTP on this machine (127.0.0.1, localhost). `microphoneSupport` tells the page
// which case it is in before the speaker presses anything.

export const WORKLET_URL = "pcm-worklet.js";
export const SAMPLE_RATE = 16000;

/** "ok", "insecure" (plain HTTP on another address) or "unsupported" (an old browser). */
export function microphoneSupport(scope = globalThis) {
  if (scope.isSecureContext === false) return "insecure";
  const media = scope.navigator?.mediaDevices;
  if (!media || typeof media.getUserMedia !== "function") {
    return scope.isSecureContext ? "unsupported" : "insecure";
  }
  if (typeof scope.AudioWorkletNode !== "function") return "unsupported";
  return "ok";
}

/** What a getUserMedia failure means to the speaker. */
export function microphoneProblem(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    case "SecurityError":
      return "denied";
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
      return "none";
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return "busy";
    default:
      return "failed";
  }
}

export class Microphone {
  /**
   * @param {object} options
   * @param {(pcm: Int16Array) => void} options.onChunk   100 ms of 16 kHz PCM
   * @param {() => void} [options.onEnded]  the device went away (unplugged, revoked)
   */
  constructor({ onChunk, onEnded = () => {} }) {
    this.onChunk = onChunk;
    this.onEnded = onEnded;
    this.stream = null;
    this.context = null;
    this.node = null;
  }

  get running() {
    return this.stream !== null;
  }

  /** Ask for the microphone and start capturing. Throws the browser's error (a DOMException). */
  async start() {
    if (this.running) return;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1,
        echoCancellation: true,
        noiseSuppression: true,
        // The loudness of each sentence is measured (volumeLevel): automatic gain
        // control would flatten exactly what is measured.
        autoGainControl: false,
      },
      video: false,
    });
    try {
      const context = new AudioContext({ latencyHint: "interactive" });
      await context.audioWorklet.addModule(WORKLET_URL);
      const source = context.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(context, "pcm-capture", {
        numberOfInputs: 1,
        numberOfOutputs: 0, // a sink: nothing is played back
        channelCountMode: "explicit",
        channelCount: 1,
      });
      node.port.onmessage = (event) => {
        if (event.data instanceof ArrayBuffer) this.onChunk(new Int16Array(event.data));
      };
      source.connect(node);
      if (context.state === "suspended") await context.resume();
      for (const track of stream.getAudioTracks()) {
        track.addEventListener("ended", () => {
          if (this.stream === stream) {
            this.stop();
            this.onEnded();
          }
        });
      }
      this.stream = stream;
      this.context = context;
      this.node = node;
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      throw error;
    }
  }

  stop() {
    const { stream, context, node } = this;
    this.stream = this.context = this.node = null;
    node?.port.postMessage("stop");
    node?.disconnect();
    for (const track of stream?.getTracks() || []) track.stop();
    context?.close().catch(() => {});
  }
}
