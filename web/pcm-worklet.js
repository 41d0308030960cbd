// The microphone's AudioWorklet: whatever rate the AudioContext runs at (44.1 or
// 48 kHz on most devices) → 16 kHz mono signed 16-bit PCM, posted to the page in
// chunks of 100 ms (1,600 samples), each as a transferable ArrayBuffer.
//
// Resampling: the channels are averaged to mono, a 6th-order Butterworth low-pass
// (7 kHz, below the new Nyquist of 8 kHz) keeps what cannot be represented at 16 kHz
// from folding back as noise, then linear interpolation picks the samples at the new
// rate. Served from the page's own origin, so `script-src 'self'` admits it.
//
// `Downsampler` is exported for Node's tests; the processor registers itself only
// inside an AudioWorkletGlobalScope.

export const TARGET_RATE = 16000;
export const CHUNK_SAMPLES = 1600; // 100 ms at 16 kHz
const CUTOFF_HZ = 7000;

// A 6th-order Butterworth low-pass as three biquads (RBJ cookbook), Q per section.
const BUTTERWORTH_Q = [0.5176, 0.7071, 1.9319];

class Biquad {
  constructor(cutoff, rate, q) {
    const omega = (2 * Math.PI * cutoff) / rate;
    const alpha = Math.sin(omega) / (2 * q);
    const cos = Math.cos(omega);
    const a0 = 1 + alpha;
    this.b0 = (1 - cos) / 2 / a0;
    this.b1 = (1 - cos) / a0;
    this.b2 = this.b0;
    this.a1 = (-2 * cos) / a0;
    this.a2 = (1 - alpha) / a0;
    this.x1 = this.x2 = this.y1 = this.y2 = 0;
  }

  step(x) {
    const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 - this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

export class Downsampler {
  constructor(inputRate, outputRate = TARGET_RATE) {
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    this.step = inputRate / outputRate;
    this.position = 0; // where the next output sample falls, in input samples from `previous`
    this.previous = 0; // the last filtered input sample of the previous block
    const cutoff = Math.min(CUTOFF_HZ, outputRate * 0.4375);
    this.filters =
      inputRate > outputRate ? BUTTERWORTH_Q.map((q) => new Biquad(cutoff, inputRate, q)) : [];
  }

  #filter(x) {
    let y = x;
    for (const filter of this.filters) y = filter.step(y);
    return y;
  }

  /**
   * One block of mono float samples in [-1, 1] → the 16 kHz samples it completes.
   * @param {Float32Array} input
   * @returns {Int16Array}
   */
  push(input) {
    const filtered = new Float32Array(input.length + 1);
    filtered[0] = this.previous; // index 0 is the sample before this block
    for (let i = 0; i < input.length; i++) filtered[i + 1] = this.#filter(input[i]);
    const out = [];
    let position = this.position;
    while (position <= input.length) {
      const index = Math.floor(position);
      const frac = position - index;
      const next = index + 1 <= input.length ? filtered[index + 1] : filtered[index];
      const value = filtered[index] + (next - filtered[index]) * frac;
      const clamped = Math.max(-1, Math.min(1, value));
      out.push(clamped < 0 ? Math.round(clamped * 32768) : Math.round(clamped * 32767));
      position += this.step;
    }
    this.position = position - input.length;
    this.previous = filtered[input.length];
    return Int16Array.from(out);
  }
}

/** Mono: the average of the channels present. */
export function mixDown(channels) {
  if (channels.length === 1) return channels[0];
  const mono = new Float32Array(channels[0].length);
  for (const channel of channels) for (let i = 0; i < mono.length; i++) mono[i] += channel[i];
  for (let i = 0; i < mono.length; i++) mono[i] /= channels.length;
  return mono;
}

if (typeof AudioWorkletProcessor === "function" && typeof registerProcessor === "function") {
  class PcmCapture extends AudioWorkletProcessor {
    constructor() {
      super();
      // `sampleRate` is the AudioWorkletGlobalScope's: the context's rate.
      this.downsampler = new Downsampler(sampleRate, TARGET_RATE);
      this.chunk = new Int16Array(CHUNK_SAMPLES);
      this.filled = 0;
      this.running = true;
      this.port.onmessage = (event) => {
        if (event.data === "stop") this.running = false;
      };
    }

    process(inputs) {
      const input = inputs[0];
      if (input && input.length) {
        const samples = this.downsampler.push(mixDown(input));
        for (let i = 0; i < samples.length; i++) {
          this.chunk[this.filled++] = samples[i];
          if (this.filled === CHUNK_SAMPLES) {
            this.port.postMessage(this.chunk.buffer, [this.chunk.buffer]);
            this.chunk = new Int16Array(CHUNK_SAMPLES);
            this.filled = 0;
          }
        }
      }
      return this.running;
    }
  }
  registerProcessor("pcm-capture", PcmCapture);
}
