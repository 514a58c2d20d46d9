// Pages the SQLite writer writes per stored message: a Parley binary on a
// fresh SQLite file, PAIRS direct conversations, MESSAGES messages sent over
// REST with CONCURRENCY in flight (so the writer batches them as it does
// under load), and the bytes the server wrote meanwhile (`wchar` of
// /proc/<pid>/io: WAL frames of 4 KiB + 24 bytes, and checkpoints) divided
// by the messages stored. Deterministic enough to compare two binaries side
// by side on a busy machine, unlike a rate.
//
//   node bench/profile/sqlite_pages.mjs PARLEY_BINARY [MESSAGES] [PAIRS] [CONCURRENCY]
//
// Needs only Node.js 20+.

import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [bin, messages = "4000", pairs = "500", concurrency = "128"] = process.argv.slice(2);
if (!bin) {
  console.error("usage: sqlite_pages.mjs PARLEY_BINARY [MESSAGES] [PAIRS] [CONCURRENCY]");
  process.exit(2);
}
const SECRET = "pages-secret";
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
function token(id, role) {
  const head = b64({ alg: "HS256", typ: "JWT" });
  const body = b64({ id, role, name: id, exp: Math.floor(Date.now() / 1000) + 3600 });
  return `${head}.${body}.${createHmac("sha256", SECRET).update(`${head}.${body}`).digest("base64url")}`;
}

const dir = mkdtempSync(join(tmpdir(), "parley-pages-"));
const server = spawn(bin, ["serve"], {
  env: {
    PATH: process.env.PATH,
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: `sqlite://${join(dir, "p.db")}?mode=rwc`,
    JWT_SECRET: SECRET,
    RATE_LIMIT_ENABLED: "false",
    LOG_FORMAT: "json",
    RUST_LOG: "warn,parley=info",
  },
  stdio: ["ignore", "pipe", "pipe"],
});
const base = await new Promise((resolve, reject) => {
  let buf = "";
  const onData = (d) => {
    buf += d;
    const m = buf.match(/listening on (http:\/\/[0-9.:]+)/);
    if (m) resolve(m[1]);
  };
  server.stdout.on("data", onData);
  server.stderr.on("data", onData);
  server.once("exit", () => reject(new Error(`server exited:\n${buf}`)));
});

async function call(method, path, tok, body) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${tok}` },
    body: body && JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const convs = [];
for (let p = 0; p < Number(pairs); p++) {
  const a = token(`pa${p}`, "brand_owner");
  const b = token(`pb${p}`, "influencer");
  await call("GET", "/api/messages/unread-count", b);
  const res = await call("POST", "/api/messages/direct-connect", a, { target_user_id: `pb${p}` });
  convs.push({ id: res.conversation.id, senders: [a, b] });
}
// One round first so every conversation is known to the writer.
await Promise.all(convs.map((c) => call("POST", "/api/messages/send", c.senders[0], { conversation_id: c.id, message: "warm" })));

const wchar = () => Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${server.pid}/io`, "utf8"))[1]);
const before = wchar();
const started = Date.now();
let next = 0;
async function worker() {
  while (next < Number(messages)) {
    const i = next++;
    const c = convs[i % convs.length];
    await call("POST", "/api/messages/send", c.senders[i % 2], {
      conversation_id: c.id,
      message: `m${i} ${"x".repeat(100)}`,
      client_message_id: randomUUID(),
    });
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const secs = (Date.now() - started) / 1000;
const bytes = wchar() - before;
console.log(
  `sqlite_pages: messages=${messages} pairs=${pairs} bytes_per_msg=${(bytes / Number(messages)).toFixed(0)} ` +
    `pages_per_msg=${(bytes / Number(messages) / 4120).toFixed(2)} msgs_per_s=${(Number(messages) / secs).toFixed(0)}`,
);
server.kill();
rmSync(dir, { recursive: true, force: true });
