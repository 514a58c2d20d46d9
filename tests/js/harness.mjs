// Starts a real Parley server (the built binary) on a free port with a fresh
// SQLite database, and gives tests what existing frontends have: a base URL,
// signed tokens, REST calls and a way to wait for socket events.

import { createHmac } from "node:crypto";
import { io } from "socket.io-client";
import { startParley, uid, binary } from "../common/server.mjs";

export { uid, binary };
export const SECRET = "js-suite-secret";

/** Starts a server that trusts tokens signed with SECRET; resolves to {base, stop, env, logs}. */
export function startServer(extraEnv = {}) {
  return startParley({ JWT_SECRET: SECRET, ...extraEnv });
}

function b64url(value) {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** An HS256 JWT, signed the way a platform backend signs its users' tokens. */
export function sign(claims, secret = SECRET) {
  const head = b64url({ alg: "HS256", typ: "JWT" });
  const body = b64url(claims);
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

export function token(id, role, extra = {}) {
  return sign({ id, role, name: `${id} name`, exp: Math.floor(Date.now() / 1000) + 3600, ...extra });
}

export async function api(base, method, path, tokenValue, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(tokenValue ? { authorization: `Bearer ${tokenValue}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, body: json };
}

/** Resolves with the next `event` payload matching `pred`, or rejects after `ms`. */
export function waitFor(socket, event, pred = () => true, ms = 10000) {
  return new Promise((resolveEvent, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    function handler(...args) {
      if (pred(...args)) {
        clearTimeout(timer);
        socket.off(event, handler);
        resolveEvent(args[0]);
      }
    }
    socket.on(event, handler);
  });
}

/** Collects every `event` payload from now on. */
export function record(socket, event) {
  const seen = [];
  socket.on(event, (data) => seen.push(data));
  return seen;
}

/** Emits with an acknowledgement callback and resolves with the ack. */
export function emitAck(socket, event, payload, ms = 10000) {
  return socket.timeout(ms).emitWithAck(event, payload);
}

/** Resolves with `socket` once it is connected; rejects with its connect_error. */
export async function connected(socket) {
  if (socket.connected) return socket;
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

/** A connected socket.io-client socket of `tokenValue`, without reconnection. */
export function connect(base, tokenValue, transports = ["websocket"]) {
  return connected(io(base, { auth: { token: tokenValue }, transports, reconnection: false, forceNew: true }));
}

/**
 * A brand owner and an influencer (both known to the server) in a direct
 * conversation the brand opened: {a, b, aToken, bToken, conversationId}.
 */
export async function directPair(base, [aPrefix, bPrefix] = ["brand", "creator"]) {
  const a = uid(aPrefix);
  const b = uid(bPrefix);
  const aToken = token(a, "brand_owner");
  const bToken = token(b, "influencer");
  await api(base, "GET", "/api/messages/unread-count", bToken);
  const res = await api(base, "POST", "/api/messages/direct-connect", aToken, { target_user_id: b });
  if (res.status !== 201) throw new Error(`direct-connect answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { a, b, aToken, bToken, conversationId: res.body.conversation.id };
}
