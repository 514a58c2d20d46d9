// Accessibility and polish: axe-core (injected into the page) finds no
// serious or critical violation on the main screens at desktop and phone
// sizes; the keyboard reaches and works every control on the way through a
// conversation; one focus colour; "Brand owner" as written; the token box
// behind the developer options. Screenshots of these states go to
// tests/artifacts (and to docs/ with UPDATE_README_SCREENSHOTS=1).

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { artifacts, launchBrowser, liveCard, openPage, pageFor, root, row, screenshot, seedBid, seeText, startServer, users } from "./harness.mjs";

// Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const PHONE = { width: 390, height: 844 };
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Serious and critical axe violations on the page as it is now. */
async function violations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

async function shot(page, name) {
  await page.locator(".toast-close").evaluateAll((buttons) => buttons.forEach((b) => b.click()));
  await screenshot(page, name);
  if (process.env.UPDATE_README_SCREENSHOTS) {
    mkdirSync(join(root, "docs"), { recursive: true });
    copyFileSync(join(artifacts, `${name}.png`), join(root, "docs", `${name}.png`));
  }
}

test("axe finds nothing serious on the main screens, desktop and phone", async () => {
  const [brand, creator] = await users(server.base, ["brand", "brand_owner", "Bloom Cosmetics"], ["asha", "influencer", "Asha Rao"]);
  const { conversation } = await seedBid(server.base, brand, creator);
  const found = {};

  const { page: signin, context: signinContext } = await openPage(browser, server.base, "visitor");
  await signin.getByRole("heading", { name: "Sign in" }).waitFor();
  found["sign-in"] = await violations(signin);
  await shot(signin, "demo-sign-in");
  await signinContext.close();

  const c = await pageFor(browser, server.base, creator);
  await row(c.page, "Summer glow reel").click();
  await liveCard(c.page, "Collaboration request").waitFor();
  found["creator, card to answer"] = await violations(c.page);
  await shot(c.page, "demo-creator-card");
  await liveCard(c.page, "Collaboration request").getByRole("button", { name: "Accept" }).click();

  const b = await pageFor(browser, server.base, brand);
  await row(b.page, "Summer glow reel").click();
  const details = liveCard(b.page, "Share project details");
  await details.waitFor();
  found["brand, conversation"] = await violations(b.page);
  await b.page.locator(".card-collapsed summary").first().click();
  found["brand, a card opened"] = await violations(b.page);
  await b.page.getByRole("tab", { name: "Marketplace" }).click();
  await b.page.locator(".source", { hasText: "Summer glow reel" }).waitFor();
  await b.page.locator(".source", { hasText: "Summer glow reel" }).getByRole("button", { name: "Show applicants" }).click();
  await b.page.getByRole("button", { name: "Go to conversation with Asha Rao" }).waitFor();
  found["brand, marketplace"] = await violations(b.page);
  await shot(b.page, "demo-brand-marketplace");
  await b.page.getByRole("button", { name: /Your account/ }).click();
  found["account menu"] = await violations(b.page);
  await b.page.keyboard.press("Escape");
  await b.page.getByRole("tab", { name: "Chats" }).click();
  await shot(b.page, "demo-brand-chat");

  const p = await pageFor(browser, server.base, creator, PHONE);
  await row(p.page, "Summer glow reel").waitFor();
  found["phone, list"] = await violations(p.page);
  await shot(p.page, "demo-phone-list");
  await p.page.goto(`/#/c/${conversation.id}`);
  await seeText(p.page.locator("#chat-turn"), "Waiting for Bloom Cosmetics");
  found["phone, conversation"] = await violations(p.page);
  await shot(p.page, "demo-phone-chat");

  const failing = Object.fromEntries(Object.entries(found).filter(([, list]) => list.length));
  assert.deepEqual(failing, {});
  assert.deepEqual([...b.page.errors, ...c.page.errors, ...p.page.errors], []);
  for (const x of [b, c, p]) await x.context.close();
});

test("the keyboard alone signs in, opens a conversation and answers its card", async () => {
  const [brand, creator] = await users(server.base, ["brand", "brand_owner", "Kite Apparel"], ["ravi", "influencer", "Ravi Menon"]);
  await seedBid(server.base, brand, creator, { title: "Monsoon jackets" });
  const { page, context } = await openPage(browser, server.base, "ravi");
  const tabTo = async (selector, limit = 40) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press("Tab");
      if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    }
    throw new Error(`Tab never reached ${selector}`);
  };
  await tabTo("#signin-name");
  await page.keyboard.type(creator.name);
  await tabTo("#signin-id");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(creator.id);
  await tabTo("input[name=role]");
  await page.keyboard.press("ArrowDown"); // Brand owner → Creator
  assert.equal(await page.evaluate(() => document.activeElement.value), "influencer");
  await tabTo("#demo-signin button[type=submit]");
  await page.keyboard.press("Enter");
  await page.locator('#connection[data-state="connected"]').waitFor();

  await tabTo("#conversation-list .conversation");
  await page.keyboard.press("Enter");
  await liveCard(page, "Collaboration request").waitFor();
  await tabTo('.card[data-live="true"] button.btn-success');
  // The focus ring is the theme's accent, the same on every control.
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineColor);
  assert.equal(ring, "rgb(47, 111, 228)");
  await page.keyboard.press("Enter");
  await seeText(page.locator("#chat-turn"), "Waiting for Kite Apparel");
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("sign-in reads like a product; roles are written as sentences", async () => {
  const { page, context } = await openPage(browser, server.base, "visitor");
  await page.getByRole("heading", { name: "Sign in to Parley" }).waitFor();
  // The token box waits behind the developer options.
  assert.equal(await page.getByLabel("JWT").isVisible(), false);
  await page.getByText("Developer options").click();
  assert.equal(await page.getByLabel("JWT").isVisible(), true);

  const [brand] = await users(server.base, ["brand", "brand_owner", "Nimbus Foods"]);
  const { page: signed, context: signedContext } = await pageFor(browser, server.base, brand);
  assert.equal(await signed.locator("#me-role").innerText(), "Brand owner");
  await signedContext.close();
  await context.close();
});
