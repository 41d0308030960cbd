// The listener's WebSocket: keeps one live connection for as long as the session runs.
//
// - A dropped connection is reopened with exponential backoff (with jitter).
// - API Gateway closes a connection after 2 hours: at `renewAfterMs` (110 min) a new
//   connection is opened first and the old one closed once the new one is live.
// - API Gateway closes a connection idle for 10 minutes: a ping goes every `pingEveryMs`.
// - Every connection after the first asks for what it missed:
//   `{"action":"catchUp","fromSequence":N}` with the last sequence the page released.
//
// Whether to try again after a failed connect is the page's decision (`shouldRetry`),
// since only it can ask the server why the connect was refused.

export const PING_EVERY_MS = 5 * 60 * 1000;
export const RENEW_AFTER_MS = 110 * 60 * 1000;

/** Delay before reconnect attempt `attempt` (0-based): 0.5 s, 1 s, 2 s … 30 s, ±25 %. */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(base * (0.75 + random() * 0.5));
}

export class ListenerConnection {
  /**
   * @param {object} options
   * @param {string} options.url          full WebSocket URL with the query string
   * @param {(message: object) => void} options.onMessage
   * @param {(state: string, detail?: object) => void} options.onState
   *        "connecting" | "live" | "reconnecting" | "closed"
   * @param {() => number|null} options.resumeFrom  the last sequence released (for catchUp)
   * @param {(info: {everLive: boolean, attempt: number}) => Promise<boolean>} options.shouldRetry
   */
  constructor({
    url,
    onMessage,
    onState,
    resumeFrom,
    shouldRetry,
    onCatchUp = () => {},
    pingEveryMs = PING_EVERY_MS,
    renewAfterMs = RENEW_AFTER_MS,
    WebSocketImpl = globalThis.WebSocket,
  }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.resumeFrom = resumeFrom;
    this.shouldRetry = shouldRetry;
    this.onCatchUp = onCatchUp;
    this.pingEveryMs = pingEveryMs;
    this.renewAfterMs = renewAfterMs;
    this.WebSocketImpl = WebSocketImpl;
    this.socket = null;
    this.everLive = false;
    this.attempt = 0;
    this.stopped = false;
    this.timers = new Set();
    this.connections = 0; // live connections so far: all but the first catch up
  }

  start() {
    this.stopped = false;
    this.onState("connecting");
    this.#open();
  }

  /** Close for good (the session ended or the listener left). */
  stop() {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) socket.close(1000, "listener left");
    this.onState("closed");
  }

  send(message) {
    if (this.socket && this.socket.readyState === 1) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  #later(ms, fn) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  #cancel(timer) {
    if (timer === undefined || timer === null) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Open a socket; `renewing` keeps the current one until the new one is live. */
  #open(renewing = false) {
    let socket;
    try {
      socket = new this.WebSocketImpl(this.url);
    } catch (err) {
      this.#failed(false);
      return;
    }
    let live = false;
    let pingTimer = null;
    let renewTimer = null;
    if (!renewing) this.socket = socket;

    socket.addEventListener("open", () => {
      if (this.stopped) {
        socket.close(1000, "listener left");
        return;
      }
      live = true;
      const previous = this.socket;
      this.socket = socket;
      if (renewing && previous && previous !== socket) previous.close(1000, "renewed");
      this.everLive = true;
      this.attempt = 0;
      this.connections += 1;
      this.onState("live");
      if (this.connections > 1) {
        const from = this.resumeFrom();
        if (from !== null && from >= 0) {
          this.send({ action: "catchUp", fromSequence: from });
          this.onCatchUp(from);
        }
      }
      const ping = () => {
        this.send({ action: "ping" });
        pingTimer = this.#later(this.pingEveryMs, ping);
      };
      pingTimer = this.#later(this.pingEveryMs, ping);
      renewTimer = this.#later(this.renewAfterMs, () => this.#open(true));
    });

    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && typeof message === "object") this.onMessage(message);
    });

    socket.addEventListener("close", () => {
      this.#cancel(pingTimer);
      this.#cancel(renewTimer);
      if (this.stopped) return;
      if (renewing && !live) {
        // The renewal failed; the current connection still works until it drops.
        if (this.socket && this.socket !== socket) return;
      }
      if (this.socket !== socket) return; // an old connection, replaced on purpose
      this.socket = null;
      this.#failed(live);
    });
  }

  async #failed(wasLive) {
    if (this.stopped) return;
    const attempt = wasLive ? 0 : this.attempt;
    this.onState(this.everLive ? "reconnecting" : "connecting", { attempt });
    let retry = false;
    try {
      retry = await this.shouldRetry({ everLive: this.everLive, wasLive, attempt });
    } catch {
      retry = false;
    }
    if (this.stopped) return;
    if (!retry) {
      this.stop();
      return;
    }
    this.attempt = attempt + 1;
    this.#later(wasLive ? 0 : backoffDelay(attempt), () => {
      if (!this.stopped) this.#open();
    });
  }
}
