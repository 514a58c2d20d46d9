// Campaigns in the browser: a creator opens a shared link and applies, the
// brand opens the conversation from the applicant list, and the list's
// type filters show it where it belongs. Signing in with a pasted token.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connected, devToken, launchBrowser, openPage, seeText, signIn, startServer, uid } from "./harness.mjs";

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

test("a creator applies through a shared link; filters sort the conversation", async () => {
  const brandId = uid("brand");
  const creatorId = uid("creator");
  const { page: brand, context: brandContext } = await openPage(browser, server.base, "brand");
  const { page: creator, context: creatorContext } = await openPage(browser, server.base, "creator");
  await signIn(brand, { name: "Kite Apparel", id: brandId, role: "brand_owner" });
  await signIn(creator, { name: "Ravi Menon", id: creatorId, role: "influencer" });

  // A direct conversation too, so that the filters have something to hide.
  await creator.getByRole("tab", { name: "New chat" }).click();
  await creator.getByLabel("Their user id").fill(brandId);
  await creator.getByRole("button", { name: "Open conversation" }).click();
  await seeText(creator.locator("#chat-title"), "Kite Apparel");

  await brand.getByRole("tab", { name: "Marketplace" }).click();
  await brand.getByText("Create a campaign", { exact: true }).click();
  const form = brand.locator("details", { hasText: "Create a campaign" });
  await form.getByLabel("Title").fill("Monsoon jackets");
  await form.getByLabel("Budget (₹)").fill("12000");
  await form.getByRole("button", { name: "Create campaign" }).click();
  const item = brand.locator(".source", { hasText: "Monsoon jackets" });
  const campaignId = (await item.locator(".source-id-value").textContent()).trim();

  // The creator follows the link the brand would share.
  await creator.goto(`/#/campaign/${campaignId}`);
  await connected(creator);
  const view = creator.locator("article", { hasText: "Monsoon jackets" });
  await seeText(view, "Budget ₹12,000");
  await view.getByRole("button", { name: "Apply" }).click();
  await seeText(view, "Applied.");

  const applicant = item.locator(".applicant", { hasText: creatorId });
  await applicant.getByRole("button", { name: "Open conversation with Ravi Menon" }).click();
  await seeText(brand.locator("#chat-meta"), "Campaign");
  await seeText(brand.locator(".card"), "Monsoon jackets · Budget ₹12,000");

  await creator.getByRole("tab", { name: "Chats" }).click();
  const list = creator.locator("#conversation-list");
  await list.locator(".conversation", { hasText: "Monsoon jackets" }).waitFor();
  assert.equal(await list.locator(".conversation").count(), 2);
  await creator.getByLabel("Campaign", { exact: true }).check();
  await list.locator(".conversation .badge-direct").waitFor({ state: "detached" });
  assert.equal(await list.locator(".conversation").count(), 1);
  await creator.getByLabel("Bid", { exact: true }).check();
  await list.locator(".conversation").first().waitFor({ state: "detached" });
  await seeText(creator.locator("#conversation-empty"), "No conversations yet");
  await creator.getByLabel("Direct", { exact: true }).check();
  await list.locator(".conversation .badge-direct").waitFor();
  assert.equal(await list.locator(".conversation").count(), 1);
  await creator.getByLabel("All", { exact: true }).check();
  await list.locator(".conversation").nth(1).waitFor();

  assert.deepEqual([...brand.errors, ...creator.errors], []);
  await brandContext.close();
  await creatorContext.close();
});

test("a pasted token signs in; a forged one is refused with a reason", async () => {
  const id = uid("tok");
  const token = await devToken(server.base, id, "influencer", "Token User");
  const { page, context } = await openPage(browser, server.base, "token");

  const [head, body] = token.split(".");
  await page.getByText("Developer options").click();
  await page.getByLabel("JWT").fill(`${head}.${body}.forged-signature`);
  await page.getByRole("button", { name: "Use token" }).click();
  await seeText(page.locator("#signin-error"), "Sign in again");

  await page.getByLabel("JWT").fill(`Bearer ${token}`);
  await page.getByRole("button", { name: "Use token" }).click();
  await connected(page);
  await seeText(page.locator("#whoami"), "Token User");
  assert.equal(await page.locator("#me-id").textContent(), id);

  // The session survives a reload (sessionStorage), and signing out ends it.
  await page.reload();
  await connected(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.deepEqual(page.errors, []);
  await context.close();
});
