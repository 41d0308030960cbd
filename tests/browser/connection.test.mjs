// Unit tests for web/connection.js: reconnect, catchUp, ping and the 2-hour renewal,
// with a fake WebSocket and Node's mocked timers (no network, no waiting).
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { ListenerConnection, PING_EVERY_MS, RENEW_AFTER_MS, backoffDelay } from "../../web/connection.js";
import { FakeSocket } from "./fake-socket.mjs";

const flush = () => new Promise((resolve) => setImmediate(resolve));

function connection(overrides = {}) {
  const states = [];
  let last = null;
  const conn = new ListenerConnection({
    url: "ws://x/?sessionId=a&targetLanguage=es",
    onMessage: () => {},
    onState: (state) => states.push(state),
    resumeFrom: () => last,
    shouldRetry: async () => true,
    WebSocketImpl: FakeSocket,
    ...overrides,
  });
  return { conn, states, setLast: (n) => (last = n) };
}

beforeEach(() => {
  FakeSocket.all = [];
  mock.timers.enable({ apis: ["setTimeout"] });
});
afterEach(() => mock.timers.reset());

test("a dropped connection is reopened at once and catches up from the last sequence", async () => {
  const { conn, states, setLast } = connection();
  conn.start();
  FakeSocket.all[0].accept();
  assert.deepEqual(FakeSocket.all[0].sent, []); // the first connection does not catch up
  setLast(41);
  FakeSocket.all[0].drop();
  await flush();
  mock.timers.tick(0);
  assert.equal(FakeSocket.all.length, 2);
  FakeSocket.all[1].accept();
  assert.deepEqual(FakeSocket.all[1].sent, [{ action: "catchUp", fromSequence: 41 }]);
  assert.deepEqual(states, ["connecting", "live", "reconnecting", "live"]);
});

test("failed attempts back off, and a refusal stops for good", async () => {
  let answers = [true, true, false];
  const seen = [];
  const { conn, states } = connection({
    shouldRetry: async (info) => {
      seen.push(info.attempt);
      return answers.shift();
    },
  });
  conn.start();
  FakeSocket.all[0].drop(); // refused before opening
  await flush();
  mock.timers.tick(backoffDelay(0, () => 1));
  assert.equal(FakeSocket.all.length, 2);
  FakeSocket.all[1].drop();
  await flush();
  mock.timers.tick(backoffDelay(1, () => 1));
  assert.equal(FakeSocket.all.length, 3);
  FakeSocket.all[2].drop();
  await flush();
  mock.timers.tick(60_000);
  assert.equal(FakeSocket.all.length, 3);
  assert.deepEqual(seen, [0, 1, 2]);
  assert.equal(states.at(-1), "closed");
});

test("a ping goes every five minutes", () => {
  const { conn } = connection();
  conn.start();
  FakeSocket.all[0].accept();
  mock.timers.tick(PING_EVERY_MS - 1);
  assert.deepEqual(FakeSocket.all[0].sent, []);
  mock.timers.tick(1);
  mock.timers.tick(PING_EVERY_MS);
  assert.deepEqual(FakeSocket.all[0].sent, [{ action: "ping" }, { action: "ping" }]);
});

test("before the 2-hour limit a new connection opens first, then the old one closes", () => {
  const { conn, states, setLast } = connection({ pingEveryMs: 10 * 60 * 60 * 1000 });
  conn.start();
  const old = FakeSocket.all[0];
  old.accept();
  setLast(7);
  mock.timers.tick(RENEW_AFTER_MS);
  assert.equal(FakeSocket.all.length, 2);
  assert.equal(old.readyState, 1); // still live while the new one connects
  const renewed = FakeSocket.all[1];
  renewed.accept();
  assert.equal(old.readyState, 3);
  assert.deepEqual(renewed.sent, [{ action: "catchUp", fromSequence: 7 }]);
  assert.equal(FakeSocket.all.length, 2); // closing the old one did not trigger a reconnect
  assert.deepEqual(states, ["connecting", "live", "live"]);
  assert.ok(RENEW_AFTER_MS < 2 * 60 * 60 * 1000);
});

test("stop closes the socket and nothing reopens it", async () => {
  const { conn } = connection();
  conn.start();
  FakeSocket.all[0].accept();
  conn.stop();
  await flush();
  mock.timers.tick(RENEW_AFTER_MS * 2);
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(FakeSocket.all[0].readyState, 3);
});

test("backoff grows to 30 s with jitter", () => {
  assert.equal(backoffDelay(0, () => 0.5), 500);
  assert.equal(backoffDelay(3, () => 0.5), 4000);
  assert.equal(backoffDelay(20, () => 0.5), 30_000);
  assert.equal(backoffDelay(20, () => 1), 37_500);
});
