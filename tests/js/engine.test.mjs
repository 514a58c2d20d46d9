// The engine.io layer seen from the wire, as the official engine.io
// protocol suite checks it: heartbeats on the server's schedule, a silent
// client timed out, and one WebSocket upgrade per session.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { io } from "socket.io-client";
import { startServer, token, uid, api } from "./harness.mjs";

const PING_INTERVAL = 400;
const PING_TIMEOUT = 300;
let server;
before(async () => {
  server = await startServer({
    PING_INTERVAL_MS: String(PING_INTERVAL),
    PING_TIMEOUT_MS: String(PING_TIMEOUT),
    RATE_LIMIT_ENABLED: "false",
  });
});
after(async () => {
  await server?.stop();
});

const wsUrl = (query) => `${server.base.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket${query}`;

/** The next text frame of `ws`. */
function nextFrame(ws) {
  return new Promise((resolve, reject) => {
    ws.once("message", (data) => resolve(data.toString()));
    ws.once("close", () => reject(new Error("closed before the next frame")));
  });
}

test("the first ping comes one pingInterval after the handshake, and a pong keeps the session", async () => {
  // Timed from before the connection: the server's handshake comes later,
  // so a correct server can't ping sooner than this, and a busy test
  // process that reads the handshake late can't shorten the figure.
  const started = Date.now();
  const ws = new WebSocket(wsUrl(""));
  try {
    const open = await nextFrame(ws);
    assert.equal(open[0], "0");
    assert.equal(JSON.parse(open.slice(1)).pingInterval, PING_INTERVAL);
    assert.equal(await nextFrame(ws), "2");
    const waited = Date.now() - started;
    assert.ok(waited >= PING_INTERVAL - 50, `first ping after ${waited} ms`);
    ws.send("3");
    assert.equal(await nextFrame(ws), "2", "the session lives on after a pong");
  } finally {
    ws.close();
  }
});

test("a client that never answers a ping is closed after pingInterval + pingTimeout", async () => {
  const ws = new WebSocket(wsUrl(""));
  const opened = await new Promise((resolve) => ws.once("message", () => resolve(Date.now())));
  const closed = await new Promise((resolve) => ws.once("close", () => resolve(Date.now())));
  const lived = closed - opened;
  assert.ok(lived >= PING_INTERVAL + PING_TIMEOUT - 50, `closed after ${lived} ms`);
  assert.ok(lived < PING_INTERVAL + PING_TIMEOUT + 2000, `closed after ${lived} ms`);
});

test("a second WebSocket upgrade of one session is refused at once; the first completes", async () => {
  const res = await fetch(`${server.base}/socket.io/?EIO=4&transport=polling`);
  const body = await res.text();
  const { sid } = JSON.parse(body.slice(1));
  const first = new WebSocket(wsUrl(`&sid=${sid}`));
  await new Promise((resolve, reject) => {
    first.once("open", resolve);
    first.once("error", reject);
  });
  first.send("2probe");
  assert.equal(await nextFrame(first), "3probe");
  const second = new WebSocket(wsUrl(`&sid=${sid}`));
  const status = await new Promise((resolve) => {
    second.once("unexpected-response", (_req, response) => resolve(response.statusCode));
    second.once("open", () => resolve(101));
    second.on("error", () => {});
  });
  assert.equal(status, 400);
  first.send("5");
  first.send("3");
  // The upgraded session keeps its heartbeat over the WebSocket.
  assert.equal(await nextFrame(first), "2");
  first.close();
});

// The server's decision is watched from the other participant's socket (`user_offline` when the
// reader's session ends): the paused reader itself cannot see the close until it reads again.
test("a client that stops reading (but keeps answering pings) is closed, not buffered for", async () => {
  const a = uid("brand");
  const b = uid("creator");
  const aToken = token(a, "brand_owner");
  const bToken = token(b, "influencer");
  await api(server.base, "GET", "/api/messages/unread-count", bToken);
  const conv = await api(server.base, "POST", "/api/messages/direct-connect", aToken, { target_user_id: b });
  const conversationId = conv.body.conversation.id;
  const observer = io(server.base, { auth: { token: aToken }, transports: ["websocket"], reconnection: false, forceNew: true });
  await new Promise((resolve, reject) => {
    observer.once("connect", resolve);
    observer.once("connect_error", reject);
  });

  const ws = new WebSocket(wsUrl(""));
  await nextFrame(ws);
  ws.send(`40${JSON.stringify({ token: bToken })}`);
  assert.match(await nextFrame(ws), /^40/);
  const closed = new Promise((resolve) => ws.once("close", resolve));
  let offline = false;
  const wentOffline = new Promise((resolve) =>
    observer.on("user_offline", (data) => {
      if (data.userId === b) {
        offline = true;
        resolve();
      }
    }),
  );
  // Stop reading; pong blindly so only the full queue can end the session.
  ws._socket.pause();
  const pong = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send("3"), PING_INTERVAL / 4);
  try {
    // 5,000 four-byte characters (the most a message may hold): about 20 KB a frame, so 4,000
    // messages are about 80 MB, well past what the kernel can hold for a paused reader on a
    // loopback connection (receive buffers autotune up to net.ipv4.tcp_rmem's maximum, 32 MiB on
    // common kernels, plus the server's send buffer) before the server's own queue fills.
    const text = "\u{1D11E}".repeat(5000);
    let sent = 0;
    const sender = async () => {
      while (!offline && sent < 4000) {
        sent++;
        await api(server.base, "POST", "/api/messages/send", aToken, { conversation_id: conversationId, message: text });
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    assert.ok(offline, `the server kept a reader that stopped reading through ${sent} messages`);
    await wentOffline;
    // Reading again, the reader sees its connection end. Whether the frames already on the wire
    // reach it first is the kernel's choice, not the server's: the reader's blind pongs sit unread
    // in the server's receive buffer when the server drops the connection, so the kernel may end it
    // with a reset, which discards what the reader had not read yet (it did, intermittently).
    ws._socket.resume();
    await closed;
  } finally {
    clearInterval(pong);
    ws.terminate();
    observer.close();
  }
});
