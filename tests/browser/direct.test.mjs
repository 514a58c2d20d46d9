// Direct conversations in the browser: markup in messages stays text,
// messages sent while a browser is offline show up when it is back, and
// older history loads when scrolling up.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  apiCall,
  connected,
  devToken,
  launchBrowser,
  openPage,
  screenshot,
  seeText,
  signIn,
  startServer,
  uid,
} from "./harness.mjs";

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

/** Two signed-in pages with a direct conversation open on both sides. */
async function pair() {
  const aliceId = uid("alice");
  const bobId = uid("bob");
  const a = await openPage(browser, server.base, "alice");
  const b = await openPage(browser, server.base, "bob");
  await signIn(a.page, { name: "Alice Brand", id: aliceId, role: "brand_owner" });
  await signIn(b.page, { name: "Bob Creator", id: bobId, role: "influencer" });

  await a.page.getByRole("tab", { name: "New chat" }).click();
  await a.page.getByLabel("Their user id").fill(bobId);
  await a.page.getByLabel("First message (optional)").fill("Hello Bob");
  await a.page.getByRole("button", { name: "Open conversation" }).click();
  await seeText(a.page.locator("#chat-title"), "Bob Creator");

  const item = b.page.locator("#conversation-list .conversation", { hasText: "Alice Brand" });
  await item.click();
  await seeText(b.page.locator(".msg-theirs"), "Hello Bob");
  return { a, b, aliceId, bobId };
}

async function send(page, text) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
  await page.locator(".msg-mine:not(.msg-pending)", { hasText: text }).waitFor();
}

test("markup in a message is shown as text and runs nothing", async () => {
  const { a, b } = await pair();
  const payload = "<img src=x onerror=alert(1)>";
  await send(a.page, payload);
  await b.page.locator(".msg-theirs .msg-text", { hasText: payload }).waitFor();
  assert.equal(await b.page.locator(".msg-theirs .msg-text").last().textContent(), payload);
  assert.equal(await b.page.locator("#message-list img").count(), 0);
  assert.equal(await a.page.locator("#message-list img").count(), 0);
  // The preview in the conversation list is text too.
  await seeText(b.page.locator("#conversation-list"), payload);
  assert.equal(await b.page.locator("#conversation-list img").count(), 0);
  await screenshot(b.page, "08-markup-as-text");
  assert.deepEqual([...a.page.dialogs, ...b.page.dialogs], []);
  assert.deepEqual([...a.page.errors, ...b.page.errors], []);
  await a.context.close();
  await b.context.close();
});

test("messages sent while offline appear after reconnecting", async () => {
  const { a, b } = await pair();
  await b.context.setOffline(true);
  await b.page.locator('#connection[data-state="offline"]').waitFor();
  await seeText(b.page.locator("#connection"), "Offline");

  await send(a.page, "Sent while you were away 1");
  await send(a.page, "Sent while you were away 2");
  assert.equal(await b.page.locator(".msg-theirs", { hasText: "Sent while you were away" }).count(), 0);
  await screenshot(b.page, "09-offline");

  await b.context.setOffline(false);
  await connected(b.page);
  await seeText(b.page.locator(".msg-theirs"), "Sent while you were away 1");
  await seeText(b.page.locator(".msg-theirs"), "Sent while you were away 2");
  // Caught up in order, once each.
  const texts = await b.page.locator(".msg-theirs .msg-text").allTextContents();
  assert.deepEqual(texts, ["Hello Bob", "Sent while you were away 1", "Sent while you were away 2"]);
  // And the sender sees them read.
  await a.page.locator(".msg-mine", { hasText: "Sent while you were away 2" }).locator('[data-status="seen"]').waitFor();

  // Live messages flow again.
  await send(b.page, "Back online");
  await seeText(a.page.locator(".msg-theirs"), "Back online");
  assert.deepEqual([...a.page.errors, ...b.page.errors], []);
  await a.context.close();
  await b.context.close();
});

test("scrolling up loads older history", async () => {
  const carolId = uid("carol");
  const daveId = uid("dave");
  const carol = await devToken(server.base, carolId, "brand_owner", "Carol");
  await devToken(server.base, daveId, "influencer", "Dave");
  const opened = await apiCall(server.base, carol, "POST", "/api/messages/direct-connect", { target_user_id: daveId });
  const conversationId = opened.conversation.id;
  for (let i = 1; i <= 75; i++) {
    await apiCall(server.base, carol, "POST", "/api/messages/send", {
      conversation_id: conversationId,
      message: `Note ${i}`,
    });
  }

  const { page, context } = await openPage(browser, server.base, "dave");
  await signIn(page, { name: "Dave", id: daveId, role: "influencer" });
  await page.locator("#conversation-list .conversation", { hasText: "Carol" }).click();
  await seeText(page.locator(".msg-theirs").last(), "Note 75");
  assert.equal(await page.locator(".msg-theirs", { hasText: /^Carol.*Note 1$/ }).count(), 0);

  // Scroll to the top until the first message is there (each scroll loads a page).
  await page.waitForFunction(() => {
    const scroller = document.querySelector("#messages");
    scroller.scrollTop = 0;
    scroller.dispatchEvent(new Event("scroll"));
    return [...document.querySelectorAll(".msg-theirs .msg-text")].some((p) => p.textContent === "Note 1");
  }, null, { polling: 200, timeout: 15000 });
  await seeText(page.locator("#history-status"), "Start of the conversation");
  const texts = await page.locator(".msg-theirs .msg-text").allTextContents();
  assert.equal(texts.length, 75);
  assert.deepEqual(texts, Array.from({ length: 75 }, (_, i) => `Note ${i + 1}`));
  assert.deepEqual(page.errors, []);
  await context.close();
});
