// The message pane and the conversation list as a Stream or Slack user
// expects them: drafts that stay with their conversation, rows titled by
// what they are about, avatars, date separators, grouping, media previews,
// the "new messages" line and jump button, the keyboard.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiCall, launchBrowser, pageFor, row, seedBid, seeText, startServer, users } from "./harness.mjs";

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

const direct = (from, to, initial_message) =>
  apiCall(server.base, from.token, "POST", "/api/messages/direct-connect", { target_user_id: to.id, initial_message });
const say = (from, conversationId, message, extra = {}) =>
  apiCall(server.base, from.token, "POST", "/api/messages/send", { conversation_id: conversationId, message, ...extra });
const box = (page) => page.getByLabel("Message", { exact: true });

test("a draft stays with its conversation", async () => {
  const [me, bob, carol] = await users(
    server.base,
    ["dana", "brand_owner", "Dana"],
    ["bob", "influencer", "Bob Singh"],
    ["carol", "influencer", "Carol Dias"],
  );
  await direct(bob, me, "Hi Dana");
  await direct(carol, me, "Hello from Carol");
  const { page, context } = await pageFor(browser, server.base, me);

  await row(page, "Bob Singh").click();
  await seeText(page.locator(".msg-theirs"), "Hi Dana");
  await box(page).fill("Meant for Bob only");
  await row(page, "Carol Dias").click();
  await seeText(page.locator(".msg-theirs"), "Hello from Carol");
  assert.equal(await box(page).inputValue(), "");
  // The list shows where the draft is.
  await seeText(row(page, "Bob Singh"), "Draft: Meant for Bob only");

  await box(page).fill("For Carol");
  await row(page, "Bob Singh").click();
  await seeText(page.locator(".msg-theirs"), "Hi Dana");
  assert.equal(await box(page).inputValue(), "Meant for Bob only");
  await row(page, "Carol Dias").click();
  await seeText(page.locator(".msg-theirs"), "Hello from Carol");
  assert.equal(await box(page).inputValue(), "For Carol");

  // Sending it ends the draft; a reload keeps the other one.
  await box(page).press("Enter");
  await page.locator(".msg-mine:not(.msg-pending)", { hasText: "For Carol" }).waitFor();
  await page.reload();
  await row(page, "Carol Dias").click();
  await seeText(page.locator(".msg-mine"), "For Carol");
  assert.equal(await box(page).inputValue(), "");
  await row(page, "Bob Singh").click();
  await seeText(page.locator(".msg-theirs"), "Hi Dana");
  assert.equal(await box(page).inputValue(), "Meant for Bob only");
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("rows say what a conversation is about and who wrote its last message", async () => {
  const [brand, creator] = await users(server.base, ["brand", "brand_owner", "Bloom Cosmetics"], ["asha", "influencer", "Asha Rao"]);
  await seedBid(server.base, brand, creator);
  await direct(creator, brand, "Hello!");
  const c = await pageFor(browser, server.base, creator);
  const b = await pageFor(browser, server.base, brand);

  // Two conversations with the same person, told apart by their titles.
  const titles = await c.page.locator("#conversation-list .conversation-name").allTextContents();
  assert.deepEqual(titles.sort(), ["Bloom Cosmetics", "Summer glow reel"]);
  await seeText(row(c.page, "Summer glow reel"), "with Bloom Cosmetics");

  // One's own last message says so, and is not unread.
  const mine = row(c.page, "Bloom Cosmetics");
  assert.equal(await mine.locator(".conversation-last").textContent(), "You: Hello!");
  assert.equal(await mine.locator(".badge-unread").count(), 0);
  const theirs = row(b.page, "Asha Rao");
  assert.equal(await theirs.locator(".conversation-last").textContent(), "Hello!");
  assert.equal(await theirs.locator(".badge-unread").textContent(), "1 unread");

  // The bid's preview says things once, from each side.
  const preview = await row(c.page, "Summer glow reel").locator(".conversation-last").textContent();
  assert.equal(preview, "Collaboration request for “Summer glow reel” at your proposed ₹5,000.");
  assert.equal(
    await row(b.page, "Summer glow reel").locator(".conversation-last").textContent(),
    "Waiting for Asha Rao to respond to the collaboration request…",
  );
  assert.deepEqual([...b.page.errors, ...c.page.errors], []);
  await b.context.close();
  await c.context.close();
});

test("messages have avatars, a date line, grouping and previews of shared media", async () => {
  const [me, carol] = await users(server.base, ["eve", "brand_owner", "Eve"], ["carol", "influencer", "Carol Anne Dias"]);
  const { conversation } = await direct(carol, me, "First");
  await say(carol, conversation.id, "Second, straight after");
  await say(carol, conversation.id, "Look at this", { media_url: `${server.base}/icon.png` });
  await say(carol, conversation.id, "And this page", { media_url: "https://example.com/brief" });
  const { page, context } = await pageFor(browser, server.base, me);
  await row(page, "Carol Anne Dias").click();
  await seeText(page.locator(".msg-theirs"), "And this page");

  const theirs = page.locator(".msg-theirs");
  assert.equal(await theirs.first().locator(".avatar").textContent(), "CD");
  // One date line for today's messages, then one group: the name only on the first.
  assert.deepEqual(await page.locator(".day-separator").allTextContents(), ["Today"]);
  assert.deepEqual(
    await theirs.evaluateAll((els) => els.map((el) => el.classList.contains("msg-cont"))),
    [false, true, true, true],
  );
  // (kept for screen readers, out of sight)
  const hiddenName = await theirs.nth(1).locator(".msg-meta").boundingBox();
  assert.ok(hiddenName.width <= 1 && hiddenName.height <= 1, JSON.stringify(hiddenName));
  assert.ok((await theirs.nth(0).locator(".msg-meta").boundingBox()).width > 20);

  // An image link shows the image; another link shows where it goes.
  const img = theirs.nth(2).locator(".media-preview img");
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  assert.match(await img.getAttribute("alt"), /Carol Anne Dias/);
  await seeText(theirs.nth(3).locator(".link-preview"), "example.com");
  assert.equal(await theirs.nth(3).locator(".link-preview").getAttribute("href"), "https://example.com/brief");

  // The rules behind separators and grouping, over days the server cannot backdate.
  const arranged = await page.evaluate(async () => {
    const { arrange } = await import("/js/timeline.js");
    const at = (d, h, m) => new Date(2030, 0, d, h, m).toISOString();
    const msg = (id, sender, created_at, message_type = "user_input") => ({ id, sender_id: sender, created_at, message_type });
    const now = new Date(2030, 0, 3, 12, 0);
    return arrange(
      [
        msg("1", "a", at(1, 9, 0)),
        msg("2", "a", at(2, 9, 0)),
        msg("3", "a", at(2, 9, 3)),
        msg("4", "a", at(2, 9, 20)),
        msg("5", "b", at(2, 9, 21)),
        msg("6", "b", at(2, 9, 22), "automated"),
        msg("7", "b", at(3, 8, 0)),
      ],
      now,
    ).map((x) => (x.type === "day" ? x.label : `${x.message.id}${x.continued ? "+" : ""}`));
  });
  assert.equal(arranged.length, 10);
  assert.deepEqual(arranged.slice(2), ["Yesterday", "2", "3+", "4", "5", "6", "Today", "7"]);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("new messages below are marked, and the jump button brings them into view", async () => {
  const [me, frank] = await users(server.base, ["gita", "brand_owner", "Gita"], ["frank", "influencer", "Frank"]);
  const { conversation } = await direct(me, frank, "Opening line");
  for (let i = 1; i <= 30; i++) await say(me, conversation.id, `Earlier note ${i}`);
  await say(frank, conversation.id, "Unread one");
  await say(frank, conversation.id, "Unread two");
  const { page, context } = await pageFor(browser, server.base, me);
  await row(page, "Frank").click();
  await seeText(page.locator(".msg-theirs"), "Unread two");

  // The line sits right before the first unread message.
  const before = await page.locator("#new-marker + li").textContent();
  assert.match(before, /Unread one/);
  await seeText(page.locator("#new-marker"), "New messages");

  // Scrolled up, a new message is counted on the button instead of yanking the view.
  await page.locator("#messages").evaluate((el) => (el.scrollTop = 0));
  await page.locator("#jump-latest").waitFor();
  await say(frank, conversation.id, "While you read back");
  await seeText(page.locator("#jump-latest"), "1 new message");
  const scrolled = await page.locator("#messages").evaluate((el) => el.scrollTop);
  assert.ok(scrolled < 400, `the view moved to ${scrolled}`);
  await page.locator("#jump-latest").click();
  await page.locator("#jump-latest").waitFor({ state: "hidden" });
  assert.equal(await page.locator(".msg-theirs", { hasText: "While you read back" }).isVisible(), true);
  const gap = await page.locator("#messages").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  assert.ok(gap < 5, `still ${gap}px from the end`);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("Enter sends, Shift+Enter breaks the line, Escape closes menus", async () => {
  const [me, hana] = await users(server.base, ["ivy", "brand_owner", "Ivy"], ["hana", "influencer", "Hana"]);
  await direct(hana, me, "Ping");
  const { page, context } = await pageFor(browser, server.base, me);
  await row(page, "Hana").click();
  await seeText(page.locator(".msg-theirs"), "Ping");

  await box(page).focus();
  await page.keyboard.type("Line one");
  await page.keyboard.press("Shift+Enter");
  await page.keyboard.type("Line two");
  assert.equal(await box(page).inputValue(), "Line one\nLine two");
  assert.equal(await page.locator(".msg-mine").count(), 0);
  await page.keyboard.press("Enter");
  const sent = page.locator(".msg-mine:not(.msg-pending)").first();
  await sent.waitFor();
  assert.equal(await sent.locator(".msg-text").textContent(), "Line one\nLine two");
  assert.equal(await box(page).inputValue(), "");

  const account = page.getByRole("button", { name: /Your account/ });
  await account.click();
  await page.locator("#account-panel").waitFor();
  assert.equal(await account.getAttribute("aria-expanded"), "true");
  await page.keyboard.press("Escape");
  await page.locator("#account-panel").waitFor({ state: "hidden" });
  assert.equal(await account.getAttribute("aria-expanded"), "false");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "account-button");
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("the notification bell hides itself while the server keeps no notifications", async () => {
  const [me] = await users(server.base, ["jo", "influencer", "Jo"]);
  const probe = await fetch(`${server.base}/api/notifications`, { headers: { authorization: `Bearer ${me.token}` } });
  const { page, context } = await pageFor(browser, server.base, me);
  // Wait for the page's own request to be answered before looking.
  await page.waitForFunction(() => performance.getEntriesByType("resource").some((e) => e.name.includes("/api/notifications")));
  if (probe.status === 404) {
    assert.equal(await page.locator("#bell").isVisible(), false);
  } else {
    assert.equal(probe.status, 200);
    await page.locator("#bell").waitFor();
  }
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("the bell lists stored notifications and marks them read", async (t) => {
  const [me, kim] = await users(server.base, ["lee", "brand_owner", "Lee"], ["kim", "influencer", "Kim"]);
  const probe = await fetch(`${server.base}/api/notifications`, { headers: { authorization: `Bearer ${me.token}` } });
  if (probe.status === 404) {
    t.skip("this server has no GET /api/notifications yet (contract section 10)");
    return;
  }
  const { page, context } = await pageFor(browser, server.base, me);
  await page.locator("#bell").waitFor();
  await direct(kim, me, "Are you there?");
  await seeText(page.locator("#bell-count"), "1");
  await page.locator("#bell-button").click();
  const item = page.locator(".bell-item.is-unread").first();
  await item.waitFor();
  await item.click();
  await seeText(page.locator("#chat-title"), "Kim");
  await page.locator("#bell-count").waitFor({ state: "hidden" });
  assert.deepEqual(page.errors, []);
  await context.close();
});
