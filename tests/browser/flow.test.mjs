// A bid conversation as each side reads it: flow messages come from the
// platform, the side that is not asked sees "Waiting for <name> to …", the
// header says whose turn it is from the viewer's side, and the composer is
// locked with its reason until free chat opens. The marketplace names
// applicants and offers each action once.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, liveCard, pageFor, row, seedBid, seeText, startServer, users } from "./harness.mjs";

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

async function bidPair() {
  const [brand, creator] = await users(server.base, ["brand", "brand_owner", "Bloom Cosmetics"], ["asha", "influencer", "Asha Rao"]);
  await seedBid(server.base, brand, creator);
  const b = await pageFor(browser, server.base, brand);
  const c = await pageFor(browser, server.base, creator);
  await row(b.page, "Summer glow reel").click();
  await row(c.page, "Summer glow reel").click();
  await liveCard(c.page, "Collaboration request").waitFor();
  return { brand, creator, b, c };
}

test("flow messages are the platform's, and the side not asked sees whom it waits for", async () => {
  const { b, c } = await bidPair();
  // Neither side sees the card as written by a person.
  for (const page of [b.page, c.page]) {
    const senders = await page.locator(".msg-automated .msg-sender").allTextContents();
    assert.ok(senders.length > 0);
    assert.deepEqual([...new Set(senders)], ["Parley"]);
  }
  assert.equal(await b.page.locator(".msg-sender", { hasText: /^You$/ }).count(), 0);
  assert.equal(await c.page.locator(".msg-sender", { hasText: "Bloom Cosmetics" }).count(), 0);

  // The brand is not asked: one collapsed line, no buttons, not the creator's text.
  const waiting = b.page.locator(".card-collapsed", { hasText: "Collaboration request" });
  await seeText(waiting, "Waiting for Asha Rao to respond to the collaboration request…");
  assert.equal(await b.page.locator(".msg-automated .card button").count(), 0);
  assert.equal(await b.page.getByText("at your proposed", { exact: false }).first().isVisible(), false);
  // The creator is asked: the card is open, with the text addressed to her.
  await seeText(c.page.locator(".msg-automated"), "at your proposed ₹5,000");

  await liveCard(c.page, "Collaboration request").getByRole("button", { name: "Accept" }).click();
  await liveCard(b.page, "Share project details").waitFor();
  await seeText(c.page.locator(".card-collapsed"), "Waiting for Bloom Cosmetics to share the project details…");
  assert.deepEqual([...b.page.errors, ...c.page.errors], []);
  await b.context.close();
  await c.context.close();
});

test("the header says whose turn it is from the viewer's side", async () => {
  const { b, c } = await bidPair();
  await seeText(c.page.locator("#chat-turn"), "Your turn: respond to the collaboration request");
  await seeText(b.page.locator("#chat-turn"), "Waiting for Asha Rao to respond to the collaboration request");
  assert.doesNotMatch(await c.page.locator(".chat-header").innerText(), /Waiting for/);

  await liveCard(c.page, "Collaboration request").getByRole("button", { name: "Accept" }).click();
  await seeText(b.page.locator("#chat-turn"), "Your turn: share the project details");
  await seeText(c.page.locator("#chat-turn"), "Waiting for Bloom Cosmetics to share the project details");
  // The list agrees.
  await seeText(row(b.page, "Summer glow reel"), "Your turn");
  await seeText(row(c.page, "Summer glow reel"), "Their turn");
  await b.context.close();
  await c.context.close();
});

test("the composer is locked with its reason until free chat opens", async () => {
  const { b, c } = await bidPair();
  const box = (p) => p.getByLabel("Message", { exact: true });
  for (const page of [b.page, c.page]) {
    assert.equal(await box(page).isDisabled(), true);
    assert.equal(await page.getByRole("button", { name: "Send" }).isDisabled(), true);
  }
  await seeText(b.page.locator("#composer-lock"), "Free chat is not open yet: it opens when you approve the submitted work");
  await seeText(c.page.locator("#composer-lock"), "it opens when Bloom Cosmetics approves your submitted work");
  // The reason is what a screen reader hears for the box.
  assert.match(await box(c.page).getAttribute("aria-describedby"), /composer-lock/);

  // A direct conversation is open for chat at once.
  await c.page.getByRole("tab", { name: "New chat" }).click();
  await c.page.getByLabel("Their user id").fill(await b.page.locator("#me-id").textContent());
  await c.page.getByRole("button", { name: "Open conversation" }).click();
  await seeText(c.page.locator("#chat-meta"), "Direct");
  await c.page.waitForFunction(() => !document.querySelector("#composer-input").disabled);
  assert.equal(await c.page.locator("#composer-lock").isVisible(), false);
  await b.context.close();
  await c.context.close();
});

test("the marketplace names applicants, offers each step once and keeps what was applied", async () => {
  const [brand, creator] = await users(server.base, ["brand", "brand_owner", "Kite Apparel"], ["ravi", "influencer", "Ravi Menon"]);
  const b = await pageFor(browser, server.base, brand);
  const c = await pageFor(browser, server.base, creator);

  await b.page.getByRole("tab", { name: "Marketplace" }).click();
  await b.page.getByText("Create a bid", { exact: true }).click();
  const form = b.page.locator("details", { hasText: "Create a bid" });
  await form.getByLabel("Title").fill("Winter drop");
  await form.getByRole("button", { name: "Create bid" }).click();
  const item = b.page.locator(".source", { hasText: "Winter drop" });
  const bidId = (await item.locator(".source-id-value").textContent()).trim();

  await c.page.goto(`/#/bid/${bidId}`);
  const view = c.page.locator("article", { hasText: "Winter drop" });
  await view.getByLabel("Your price (₹)").fill("7000");
  await view.getByRole("button", { name: "Apply" }).click();
  await seeText(view, "Applied.");
  // What was applied is shown, not left editable.
  await seeText(view, "Your price: ₹7,000");
  assert.equal(await view.getByLabel("Your price (₹)").count(), 0);
  assert.equal(await view.getByRole("button", { name: "Apply" }).count(), 0);

  // The brand is told by name, in an alert that leaves the sidebar free.
  const alert = b.page.locator(".toast", { hasText: "New application from Ravi Menon" });
  await alert.waitFor();
  assert.doesNotMatch(await alert.innerText(), new RegExp(creator.id));
  const a = await alert.boundingBox();
  const s = await b.page.locator(".sidebar").boundingBox();
  assert.ok(a.x >= s.x + s.width, `alert at x=${a.x} overlaps the sidebar (right edge ${s.x + s.width})`);

  const applicant = item.locator(".applicant", { hasText: "Ravi Menon" });
  await seeText(applicant, `@${creator.id}`);
  await applicant.getByRole("button", { name: "Open conversation with Ravi Menon" }).click();
  await seeText(b.page.locator("#chat-title"), "Ravi Menon");
  await b.page.getByRole("tab", { name: "Marketplace" }).click();
  // Once open: a way to it, no second "Open conversation", no amount to edit.
  await applicant.getByRole("button", { name: "Go to conversation with Ravi Menon" }).waitFor();
  assert.equal(await applicant.getByRole("button", { name: /Open conversation/ }).count(), 0);
  assert.equal(await applicant.getByLabel("Proposed amount (₹)").count(), 0);
  // Still so after the list is fetched again.
  await item.getByRole("button", { name: "Show applicants" }).click();
  await applicant.getByRole("button", { name: "Go to conversation with Ravi Menon" }).waitFor();
  assert.equal(await applicant.getByRole("button", { name: /Open conversation/ }).count(), 0);

  // Reopening the bid later still shows the application as sent.
  await c.page.reload();
  await c.page.goto(`/#/bid/${bidId}`);
  await seeText(c.page.locator("article", { hasText: "Winter drop" }), "Your price: ₹7,000");
  assert.deepEqual([...b.page.errors, ...c.page.errors], []);
  await b.context.close();
  await c.context.close();
});
