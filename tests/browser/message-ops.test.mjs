// What one can do to messages and conversations in the demo page, seen by
// two people in two browsers: edit (live "(edited)"), delete (a tombstone on
// both sides), reactions (chips with counts, one's own highlighted), quoted
// replies, search with highlighted words (markup stays text), archive (the
// other's next message brings the conversation back), mute (an icon, on
// every tab of the viewer) and the listing a direct conversation is about.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { apiCall, artifacts, launchBrowser, openPage, pageFor, root, row, screenshot, seeText, signIn, startServer, users } from "./harness.mjs";

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

/** A screenshot in tests/artifacts, and in docs/ for the README with UPDATE_README_SCREENSHOTS=1. */
async function shot(page, name) {
  await page.locator(".toast-close").evaluateAll((buttons) => buttons.forEach((b) => b.click()));
  await screenshot(page, name);
  if (process.env.UPDATE_README_SCREENSHOTS) {
    mkdirSync(join(root, "docs"), { recursive: true });
    copyFileSync(join(artifacts, `${name}.png`), join(root, "docs", `${name}.png`));
  }
}

/** Serious and critical axe violations on the page as it is now. */
async function violations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Asserts that `locator`'s box lies within the page's width. */
async function fitsWidth(page, locator) {
  const r = await locator.boundingBox();
  const width = page.viewportSize().width;
  assert.ok(r.x >= 0 && r.x + r.width <= width, `${r.x}+${r.width} outside 0..${width}`);
}

const box = (page) => page.getByLabel("Message", { exact: true });
/** The drawn message (not a pending send) whose text contains `text`. */
const bubble = (page, text) => page.locator(".msg:not(.msg-pending)", { has: page.locator(".msg-text", { hasText: text }) });

async function send(page, text) {
  await box(page).fill(text);
  await box(page).press("Enter");
  await page.locator(".msg-mine:not(.msg-pending)", { hasText: text }).waitFor();
}

/** Opens message `msg`'s actions menu and clicks `name` in it. */
async function menuAction(page, msg, name) {
  await msg.getByRole("button", { name: "Message actions" }).click();
  await msg.locator(".msg-menu").getByRole("button", { name, exact: true }).click();
}

/** Alice (brand) and Bob (creator) in a direct conversation, open in both browsers. */
async function pair(first = "Hello Bob") {
  const [alice, bob] = await users(server.base, ["alice", "brand_owner", "Alice Brand"], ["bob", "influencer", "Bob Creator"]);
  const { conversation } = await apiCall(server.base, alice.token, "POST", "/api/messages/direct-connect", {
    target_user_id: bob.id,
    initial_message: first,
  });
  const a = await pageFor(browser, server.base, alice);
  const b = await pageFor(browser, server.base, bob);
  await row(a.page, "Bob Creator").click();
  await row(b.page, "Alice Brand").click();
  await seeText(b.page.locator(".msg-theirs"), first);
  await seeText(a.page.locator(".msg-mine"), first);
  return { alice, bob, a, b, conversation };
}

async function done(...opened) {
  for (const { page } of opened) {
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.dialogs, []);
  }
  for (const { context } of opened) await context.close();
}

test("edit, react, reply and delete show on both sides without a reload", async () => {
  const { a, b } = await pair();
  await send(a.page, "Lunch at 1?");

  // Edit: the text goes in the composer, Enter saves it; the other side sees it live.
  await menuAction(a.page, bubble(a.page, "Lunch at 1?"), "Edit");
  await seeText(a.page.locator("#composer-context"), "Editing your message");
  assert.equal(await box(a.page).inputValue(), "Lunch at 1?");
  await box(a.page).fill("Lunch at 2?");
  await box(a.page).press("Enter");
  const edited = bubble(b.page, "Lunch at 2?");
  await edited.locator(".msg-edited", { hasText: "(edited)" }).waitFor();
  await bubble(a.page, "Lunch at 2?").locator(".msg-edited").waitFor();
  // Shown in full, also on a message grouped under the one before it (whose name line is hidden).
  assert.ok((await edited.locator(".msg-edited").boundingBox()).width > 20);
  assert.ok(await edited.evaluate((li) => li.classList.contains("msg-cont")));
  assert.equal(await b.page.locator(".msg-text", { hasText: "Lunch at 1?" }).count(), 0);
  // Only one's own messages can be edited or deleted.
  await edited.getByRole("button", { name: "Message actions" }).click();
  const theirMenu = edited.locator(".msg-menu");
  await theirMenu.getByRole("button", { name: "Reply", exact: true }).waitFor();
  assert.equal(await theirMenu.getByRole("button", { name: "Edit", exact: true }).count(), 0);
  assert.equal(await theirMenu.getByRole("button", { name: "Delete", exact: true }).count(), 0);

  // React: Bob picks 👍; the chip counts 1 on both sides and is highlighted for Bob only.
  await theirMenu.getByRole("button", { name: "React with 👍" }).click();
  const chipB = bubble(b.page, "Lunch at 2?").locator('.reaction[data-emoji="👍"]');
  const chipA = bubble(a.page, "Lunch at 2?").locator('.reaction[data-emoji="👍"]');
  await chipB.locator(".reaction-count", { hasText: "1" }).waitFor();
  await chipA.locator(".reaction-count", { hasText: "1" }).waitFor();
  assert.equal(await chipB.getAttribute("aria-pressed"), "true");
  assert.equal(await chipA.getAttribute("aria-pressed"), "false");
  // Alice's click on the chip adds hers: 2 on both; Bob's click takes his away: 1.
  await chipA.click();
  await chipB.locator(".reaction-count", { hasText: "2" }).waitFor();
  await chipA.and(a.page.locator('[aria-pressed="true"]')).locator(".reaction-count", { hasText: "2" }).waitFor();
  // The redrawn message gives the keyboard focus back to the chip.
  assert.equal(await a.page.evaluate(() => document.activeElement?.dataset?.emoji), "👍");
  await chipB.click();
  await chipA.locator(".reaction-count", { hasText: "1" }).waitFor();
  await chipB.and(b.page.locator('[aria-pressed="false"]')).locator(".reaction-count", { hasText: "1" }).waitFor();

  // Reply: the quote shows above the composer with a cancel, then on the sent message.
  await menuAction(b.page, bubble(b.page, "Lunch at 2?"), "Reply");
  await seeText(b.page.locator("#composer-context"), "Replying to Alice Brand");
  await b.page.getByRole("button", { name: "Cancel reply" }).click();
  assert.equal(await b.page.locator("#composer-context").isVisible(), false);
  await menuAction(b.page, bubble(b.page, "Lunch at 2?"), "Reply");
  await send(b.page, "Works for me");
  assert.equal(await b.page.locator("#composer-context").isVisible(), false);
  const replyA = bubble(a.page, "Works for me").locator(".msg-quote");
  await replyA.waitFor();
  assert.equal(await replyA.locator(".msg-quote-sender").textContent(), "You");
  assert.equal(await replyA.locator(".msg-quote-text").textContent(), "Lunch at 2?");
  const replyB = bubble(b.page, "Works for me").locator(".msg-quote");
  assert.equal(await replyB.locator(".msg-quote-sender").textContent(), "Alice Brand");
  // Clicking the quote shows the original.
  await replyA.click();
  await a.page.locator(".msg-flash", { hasText: "Lunch at 2?" }).waitFor();
  // Nothing serious for axe, with a menu open too.
  await bubble(b.page, "Works for me").getByRole("button", { name: "Message actions" }).click();
  await bubble(b.page, "Works for me").locator(".msg-menu").getByRole("button", { name: "Edit", exact: true }).waitFor();
  assert.deepEqual(await violations(b.page), []);
  await shot(b.page, "demo-message-ops");
  await b.page.keyboard.press("Escape");

  // Delete (a second click confirms): a tombstone on both sides, and the quote says so.
  const original = bubble(a.page, "Lunch at 2?");
  await original.getByRole("button", { name: "Message actions" }).click();
  await original.locator(".msg-menu").getByRole("button", { name: "Delete", exact: true }).click();
  await original.locator(".msg-menu").getByRole("button", { name: "Confirm delete" }).click();
  for (const page of [a.page, b.page]) {
    await page.locator(".msg-deleted .msg-tombstone", { hasText: "Message deleted" }).waitFor();
    await page.locator(".msg-quote.is-deleted", { hasText: "Original message deleted" }).waitFor();
    assert.equal(await page.locator(".msg-text", { hasText: "Lunch at 2?" }).count(), 0);
    assert.equal(await page.locator('.msg-deleted .reaction').count(), 0);
  }
  // The list's preview follows.
  await seeText(row(b.page, "Alice Brand"), "Works for me");
  await done(a, b);
});

test("edits and deletes made while a page was offline show once it is back", async () => {
  const { a, b } = await pair("First plan");
  await send(a.page, "Second plan");
  await seeText(b.page.locator(".msg-theirs"), "Second plan");
  await b.context.setOffline(true);
  await b.page.locator('#connection[data-state="offline"]').waitFor();

  await menuAction(a.page, bubble(a.page, "First plan"), "Edit");
  await box(a.page).fill("First plan, revised");
  await box(a.page).press("Enter");
  await bubble(a.page, "First plan, revised").locator(".msg-edited").waitFor();
  const second = bubble(a.page, "Second plan");
  await second.getByRole("button", { name: "Message actions" }).click();
  await second.locator(".msg-menu").getByRole("button", { name: "Delete", exact: true }).click();
  await second.locator(".msg-menu").getByRole("button", { name: "Confirm delete" }).click();
  await a.page.locator(".msg-deleted").waitFor();

  await b.context.setOffline(false);
  await bubble(b.page, "First plan, revised").locator(".msg-edited").waitFor();
  await b.page.locator(".msg-deleted .msg-tombstone").waitFor();
  assert.equal(await b.page.locator(".msg-text", { hasText: "Second plan" }).count(), 0);
  await done(a, b);
});

test("search finds a word, marks it, and shows markup as text", async () => {
  const { a, b } = await pair("The invoice is attached");
  await send(a.page, "<b>x</b> marks the spot");
  await seeText(b.page.locator(".msg-theirs"), "marks the spot");

  const search = b.page.getByRole("searchbox", { name: "Search messages" });
  await search.fill("invoi");
  const result = b.page.locator("#search-results .search-result").first();
  await result.locator("mark", { hasText: "invoice" }).waitFor();
  assert.equal(await result.locator("mark").textContent(), "invoice");
  assert.equal(await result.locator(".search-snippet").textContent(), "The invoice is attached");
  await seeText(b.page.locator("#search-status"), "1 message match");
  assert.equal(await b.page.locator("#conversation-list").isVisible(), false);
  await shot(b.page, "demo-search");

  // A message holding markup is found and shown as its text.
  await search.fill("marks spot");
  const markup = b.page.locator("#search-results .search-result", { hasText: "the spot" });
  await markup.locator("mark", { hasText: "spot" }).waitFor();
  assert.equal(await markup.locator(".search-snippet").textContent(), "<b>x</b> marks the spot");
  assert.equal(await b.page.locator("#search-results b").count(), 0);

  // Only the server's own marks become <mark>: one typed in a message stays text.
  await send(a.page, "<mark>fake</mark> spotlight");
  await search.fill("spotlight");
  const typed = b.page.locator("#search-results .search-result", { hasText: "spotlight" });
  await typed.locator("mark", { hasText: "spotlight" }).waitFor();
  assert.equal(await typed.locator(".search-snippet").textContent(), "<mark>fake</mark> spotlight");
  assert.deepEqual(await typed.locator("mark").allTextContents(), ["spotlight"]);

  // A click opens the conversation at the message.
  await search.fill("marks spot");
  await markup.click();
  await b.page.locator(".msg-flash", { hasText: "marks the spot" }).waitFor();
  await search.fill("");
  await b.page.locator("#conversation-list").waitFor();
  await done(a, b);
});

test("archive moves a conversation to Archived until the other writes; mute shows on every tab", async () => {
  const { a, b, bob } = await pair("Are you free on Friday?");
  const options = b.page.getByRole("button", { name: "Conversation options" });

  await options.click();
  await b.page.locator("#chat-options-panel").getByRole("button", { name: "Archive" }).click();
  await row(b.page, "Alice Brand").waitFor({ state: "detached" });
  await seeText(b.page.locator("#chat-meta"), "Archived");
  await b.page.locator(".filters").getByText("Archived").click();
  await row(b.page, "Alice Brand").waitFor();

  // Alice's next message brings it back to the main list.
  await b.page.locator(".filters").getByText("All").click();
  await row(b.page, "Alice Brand").waitFor({ state: "detached" });
  await send(a.page, "Any news?");
  await row(b.page, "Alice Brand").waitFor();
  await b.page.locator("#chat-meta .chat-archived").waitFor({ state: "detached" });
  await b.page.locator(".filters").getByText("Archived").click();
  await b.page.locator("#conversation-empty", { hasText: "No archived conversations" }).waitFor();
  await b.page.locator(".filters").getByText("All").click();
  await row(b.page, "Alice Brand").waitFor();

  // Mute for 8 hours: the icon shows in the header, the row, and Bob's other tab, live.
  const other = await pageFor(browser, server.base, bob);
  await row(other.page, "Alice Brand").waitFor();
  await options.click();
  await b.page.locator("#chat-options-panel").getByRole("button", { name: "For 8 hours" }).click();
  await b.page.locator("#chat-muted").getByRole("img", { name: /^Muted until/ }).waitFor();
  await row(b.page, "Alice Brand").getByRole("img", { name: /^Muted until/ }).waitFor();
  await row(other.page, "Alice Brand").getByRole("img", { name: /^Muted until/ }).waitFor();
  // Alice sees nothing of it.
  assert.equal(await a.page.locator(".muted-icon").count(), 0);

  // Until turned back on, then unmuted.
  await options.click();
  await b.page.locator("#chat-options-panel").getByRole("button", { name: "Unmute" }).click();
  await row(other.page, "Alice Brand").locator(".muted-icon").waitFor({ state: "detached" });
  await options.click();
  await b.page.locator("#chat-options-panel").getByRole("button", { name: "Until I turn it back on" }).click();
  await row(other.page, "Alice Brand").getByRole("img", { name: "Muted until you turn it back on" }).waitFor();
  await done(a, b, other);
});

test("a conversation about a listing says so in the header", async () => {
  const [guest, host] = await users(server.base, ["guest", "influencer", "Gita Guest"], ["host", "brand_owner", "Hari Host"]);
  await apiCall(server.base, guest.token, "POST", "/api/messages/direct-connect", {
    target_user_id: host.id,
    context: { type: "listing", id: "flat-42", title: "Sea-view flat", url: "https://example.com/l/42" },
    initial_message: "Is it free in May?",
  });
  const h = await pageFor(browser, server.base, host);
  await seeText(row(h.page, "Gita Guest"), "About Sea-view flat");
  await row(h.page, "Gita Guest").click();
  await seeText(h.page.locator(".msg-theirs"), "Is it free in May?");
  const about = h.page.locator("#chat-meta .chat-context");
  await seeText(about, "Inquiry about Sea-view flat");
  assert.equal(await about.getAttribute("href"), "https://example.com/l/42");
  await done(h);
});

test("on a phone the message menu, the reply bar and the options fit the screen", async () => {
  const [alice, bob] = await users(server.base, ["alice", "brand_owner", "Alice Brand"], ["bob", "influencer", "Bob Creator"]);
  await apiCall(server.base, alice.token, "POST", "/api/messages/direct-connect", { target_user_id: bob.id, initial_message: "A long first message to answer" });
  const b = await pageFor(browser, server.base, bob, PHONE);
  await row(b.page, "Alice Brand").click();
  const msg = bubble(b.page, "A long first message");
  await msg.getByRole("button", { name: "Message actions" }).click();
  await fitsWidth(b.page, msg.locator(".msg-menu"));
  await msg.locator(".msg-menu").getByRole("button", { name: "React with 🎉" }).click();
  await msg.locator('.reaction[aria-pressed="true"]').waitFor();
  await menuAction(b.page, msg, "Reply");
  await fitsWidth(b.page, b.page.locator("#composer-context"));
  await b.page.getByRole("button", { name: "Conversation options" }).click();
  await fitsWidth(b.page, b.page.locator("#chat-options-panel"));
  await shot(b.page, "demo-phone-options");
  assert.deepEqual(await violations(b.page), []);
  await done(b);
});

test("an admin deletes someone's message from its menu; both participants see the tombstone", async () => {
  const { a, b, conversation } = await pair("Buy cheap followers at spam.example");
  const [admin] = await users(server.base, ["mod", "admin", "Mo Derator"]);
  const m = await pageFor(browser, server.base, admin);
  await m.page.evaluate((id) => (location.hash = `#/c/${id}`), conversation.id);
  const spam = bubble(m.page, "Buy cheap followers");
  await spam.getByRole("button", { name: "Message actions" }).click();
  const panel = spam.locator(".msg-menu");
  await panel.getByRole("button", { name: "Delete", exact: true }).waitFor();
  // Not a participant: nothing to reply to or react with.
  assert.equal(await panel.getByRole("button", { name: "Reply", exact: true }).count(), 0);
  assert.equal(await panel.getByRole("button", { name: /^React with/ }).count(), 0);
  await panel.getByRole("button", { name: "Delete", exact: true }).click();
  await panel.getByRole("button", { name: "Confirm delete" }).click();
  for (const page of [m.page, a.page, b.page]) await page.locator(".msg-deleted .msg-tombstone", { hasText: "Message deleted" }).waitFor();
  await done(a, b, m);
});

test("a server with a shorter edit window refuses the edit; the text stays in the box with the reason", async () => {
  const strict = await startServer({ EDIT_WINDOW_MS: "1" });
  try {
    const [alice, bob] = await users(strict.base, ["alice", "brand_owner", "Alice Brand"], ["bob", "influencer", "Bob Creator"]);
    await apiCall(strict.base, alice.token, "POST", "/api/messages/direct-connect", { target_user_id: bob.id, initial_message: "Too late to change" });
    const a = await openPage(browser, strict.base, "alice");
    await signIn(a.page, alice);
    await row(a.page, "Bob Creator").click();
    await menuAction(a.page, bubble(a.page, "Too late to change"), "Edit");
    await box(a.page).fill("Changed anyway?");
    await box(a.page).press("Enter");
    await seeText(a.page.locator("#composer-error"), "This message cannot be edited");
    assert.equal(await box(a.page).inputValue(), "Changed anyway?");
    await seeText(a.page.locator("#composer-context"), "Editing your message");
    await a.page.getByRole("button", { name: "Cancel editing" }).click();
    assert.equal(await box(a.page).inputValue(), "");
    assert.equal(await a.page.locator(".msg-edited").count(), 0);
    await done(a);
  } finally {
    await strict.stop();
  }
});
