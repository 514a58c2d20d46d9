// Starts a Parley server (the built binary, a fresh SQLite file, the repo's
// static/ directory) and Debian's headless Chromium, and gives the tests
// small helpers that wait for what the page shows, never for a fixed time.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { root, startParley, uid } from "../common/server.mjs";

export { root, uid };
export const artifacts = join(root, "tests/artifacts");
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

/** Starts the server on a free port; resolves to {base, stop, logs}. */
export async function startServer(extraEnv = {}) {
  if (!existsSync(join(root, "static/node_modules/socket.io-client/dist/socket.io.esm.min.js"))) {
    throw new Error("static/node_modules is missing: run 'npm ci --prefix static' first");
  }
  // Tests seed history faster than a person types; rate limits have their own tests.
  return startParley({ RATE_LIMIT_ENABLED: "false", ...extraEnv });
}

/** Debian's Chromium, headless; Playwright gives it a fresh profile directory. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install chromium (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A browser context with one page, failing the test on page errors and
 * recording every dialog (an XSS payload that runs would open one).
 */
export async function openPage(browser, base, label) {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 820 } });
  const page = await context.newPage();
  page.dialogs = [];
  page.errors = [];
  page.on("dialog", (d) => {
    page.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on("pageerror", (e) => page.errors.push(`${label}: ${e.message}`));
  page.on("console", (msg) => {
    if (process.env.BROWSER_LOG) console.log(`[${label}] ${msg.type()}: ${msg.text()}`);
  });
  await page.goto("/");
  return { context, page };
}

/** Signs in through the demo form and waits for the socket to connect. */
export async function signIn(page, { name, id, role }) {
  const form = page.locator("#demo-signin");
  await form.getByLabel("Display name").fill(name);
  await form.getByLabel("User id").fill(id);
  await form.getByLabel(role === "brand_owner" ? "Brand owner" : role === "influencer" ? "Creator (influencer)" : "Admin (read only)").check();
  await form.getByRole("button", { name: "Sign in" }).click();
  await connected(page);
}

export async function connected(page) {
  await page.locator('#connection[data-state="connected"]').waitFor();
}

/** Waits until `locator` (or the page) shows `text`. */
export async function seeText(scope, text, timeout = 15000) {
  await scope.getByText(text, { exact: false }).first().waitFor({ state: "visible", timeout });
}

/** The live card titled `title` in the open conversation. */
export function liveCard(page, title) {
  return page.locator('.card[data-live="true"]').filter({ has: page.getByRole("heading", { name: title, exact: true }) });
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

/** A signed demo token, for seeding data through the API. */
export async function devToken(base, userId, role, name) {
  const res = await fetch(`${base}/api/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user_id: userId, role, name }),
  });
  return (await res.json()).token;
}

export async function apiCall(base, token, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

/** Two users with tokens: {id, name, role, token} each. */
export async function users(base, ...specs) {
  return Promise.all(
    specs.map(async ([prefix, role, name]) => {
      const id = uid(prefix);
      return { id, role, name, token: await devToken(base, id, role, name) };
    }),
  );
}

/** A bid by `brand` that `creator` applied to, and its conversation opened by the brand. */
export async function seedBid(base, brand, creator, { title = "Summer glow reel", amount = 5000 } = {}) {
  const { bid } = await apiCall(base, brand.token, "POST", "/api/bids", { title, min_budget: 1000, max_budget: 9000 });
  await apiCall(base, creator.token, "POST", "/api/requests", { bid_id: bid.id, proposed_amount: amount });
  const { conversation } = await apiCall(base, brand.token, "POST", "/api/bids/automated/initialize", {
    bid_id: bid.id,
    influencer_id: creator.id,
    proposed_amount: amount,
  });
  return { bid, conversation };
}

/** Opens `page` signed in as `user` (through the demo form). */
export async function pageFor(browser, base, user, viewport) {
  const opened = await openPage(browser, base, user.name);
  if (viewport) await opened.page.setViewportSize(viewport);
  await signIn(opened.page, user);
  return opened;
}

/** The conversation row titled `title` in the list. */
export function row(page, title) {
  return page.locator("#conversation-list .conversation").filter({ has: page.locator(".conversation-name", { hasText: title }) });
}
