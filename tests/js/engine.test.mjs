// The engine.io layer seen from the wire, as the official engine.io
// protocol suite checks it: heartbeats on the server's schedule, a silent
// client timed out, and one WebSocket upgrade per session.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startServer } from "./harness.mjs";

const PING_INTERVAL = 400;
const PING_TIMEOUT = 300;
let server;
before(async () => {
  server = await startServer({ PING_INTERVAL_MS: String(PING_INTERVAL), PING_TIMEOUT_MS: String(PING_TIMEOUT) });
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
  const ws = new WebSocket(wsUrl(""));
  try {
    const open = await nextFrame(ws);
    const opened = Date.now();
    assert.equal(open[0], "0");
    assert.equal(JSON.parse(open.slice(1)).pingInterval, PING_INTERVAL);
    assert.equal(await nextFrame(ws), "2");
    const waited = Date.now() - opened;
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
