// Starts a real Parley server (the built binary) on a free port with a fresh
// SQLite database, and gives tests what existing frontends have: a base URL,
// signed tokens, REST calls and a way to wait for socket events.

import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SECRET = "js-suite-secret";

export function binary() {
  const bin = process.env.PARLEY_BIN || join(root, "target/debug/parley");
  if (!existsSync(bin)) {
    throw new Error(`Parley binary not found at ${bin}: run 'cargo build' first (or set PARLEY_BIN)`);
  }
  return bin;
}

/** Starts a server; resolves to {base, stop, env}. */
export async function startServer(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), "parley-js-"));
  const env = {
    ...process.env,
    APP_ENV: "development",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: `sqlite://${join(dir, "parley.db")}?mode=rwc`,
    JWT_SECRET: SECRET,
    LOG_FORMAT: "json",
    RUST_LOG: "info",
    STATIC_DIR: join(root, "static"),
    ...extraEnv,
  };
  delete env.REDIS_URL;
  const child = spawn(binary(), ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const base = await new Promise((resolveBase, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/listening on (http:\/\/[0-9.:]+)/);
      if (match) {
        clearTimeout(timer);
        resolveBase(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    base,
    env,
    logs: () => output,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
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

export function uid(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
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
