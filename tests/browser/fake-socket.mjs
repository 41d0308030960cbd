// A fake WebSocket for the page modules' Node tests: a test plays the server
// (accept, say, drop) and reads what the client sent. Every socket made since the
// last `FakeSocket.all = []` is in `FakeSocket.all`, newest last.
export class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.listeners = {};
    FakeSocket.all.push(this);
  }
  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }
  emit(type, event = {}) {
    for (const fn of this.listeners[type] || []) fn(event);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  // What the server does:
  accept() {
    this.readyState = 1;
    this.emit("open");
  }
  say(message) {
    this.emit("message", { data: JSON.stringify(message) });
  }
  drop() {
    this.readyState = 3;
    this.emit("close", { code: 1006 });
  }
  // What the client does:
  close() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit("close", { code: 1000 });
  }
}
