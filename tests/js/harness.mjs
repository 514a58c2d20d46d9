// Starts a real Parley server (the built binary) on a free port with a fresh
// SQLite database, and gives tests what existing frontends have: a base URL,
// signed tokens, REST calls and a way to wait for socket events.

import { createHmac } from "node:crypto";
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
