// Starts a real Parley server for the JavaScript and browser suites: the
// built binary on a free port, a fresh SQLite file, the repo's static/.

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function uid(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The server binary: $PARLEY_BIN, else target/debug/parley. */
export function binary() {
  const bin = process.env.PARLEY_BIN || join(root, "target/debug/parley");
  if (!existsSync(bin)) {
    throw new Error(`Parley binary not found at ${bin}: run 'cargo build' first (or set PARLEY_BIN)`);
  }
  return bin;
}

/**
 * Starts a server with `extraEnv` over development defaults; settings the
 * caller does not give (Redis, secrets, gateway keys) are not inherited.
 * Resolves to {base, env, logs, stop}.
 */
export async function startParley(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), "parley-node-"));
  const env = {
    ...process.env,
    APP_ENV: "development",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: `sqlite://${join(dir, "parley.db")}?mode=rwc`,
    STATIC_DIR: join(root, "static"),
    LOG_FORMAT: "json",
    RUST_LOG: "info",
  };
  for (const name of ["REDIS_URL", "JWT_SECRET", "JWT_PUBLIC_KEY", "RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET", "RAZORPAY_API_BASE"]) {
    delete env[name];
  }
  Object.assign(env, extraEnv);
  const child = spawn(binary(), ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const base = await new Promise((resolveBase, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30000);
    const onData = (chunk) => {
      output += chunk.toString();
      // The address ends at the log line's closing quote or end of line: a
      // chunk may end inside it.
      const match = output.match(/listening on (http:\/\/[0-9.]+:[0-9]+)["\s]/);
      if (match) {
        clearTimeout(timer);
        resolveBase(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      // The cause is at the end (the error the binary printed on exit); CI
      // logs may keep only the start of a long message, so it comes first.
      const tail = output.trimEnd().split("\n").slice(-6).join("\n");
      reject(new Error(`server exited with ${code}; its last lines:\n${tail}\n--- whole output:\n${output}`));
    });
  });
  return {
    base,
    env,
    logs: () => output,
    stop: () =>
      new Promise((done) => {
        const finish = () => {
          rmSync(dir, { recursive: true, force: true });
          done();
        };
        if (child.exitCode !== null) return finish();
        child.once("exit", finish);
        child.kill("SIGTERM");
      }),
  };
}
