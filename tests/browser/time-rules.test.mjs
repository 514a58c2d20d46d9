// Time rules on the demo page: the disappearing-message timer beside the
// composer (the notice reaches both sides, new messages say when they go),
// what is left of the daily free messages, and when a price offer expires.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { apiCall, launchBrowser, pageFor, row, screenshot, seedBid, seeText, startServer, users } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer({ QUOTA_DAILY_FREE: "3", QUOTA_CONVERSATION_TYPES: "direct" });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function send(page, text) {
  const box = page.getByLabel("Message", { exact: true });
  await box.fill(text);
  await box.press("Enter");
  await page.locator(".msg-mine:not(.msg-pending)", { hasText: text }).waitFor();
}

test("a participant turns on disappearing messages and both sides see it; the quota counts down", async () => {
  const [alice, bob] = await users(server.base, ["alice", "brand_owner", "Alice Brand"], ["bob", "influencer", "Bob Creator"]);
  await apiCall(server.base, alice.token, "POST", "/api/messages/direct-connect", { target_user_id: bob.id, initial_message: "Hi Bob" });
  const a = await pageFor(browser, server.base, alice);
  const b = await pageFor(browser, server.base, bob);
  await row(a.page, "Bob Creator").click();
  await row(b.page, "Alice Brand").click();
  await seeText(b.page.locator(".msg-theirs"), "Hi Bob");

  // One message of three is spent; the line says what is left.
  const quota = a.page.locator("#composer-quota");
  await seeText(quota, "2 of 3 free messages left today");

  const timer = a.page.getByLabel("Disappearing messages");
  assert.equal(await timer.inputValue(), "");
  await timer.selectOption({ label: "1 day" });
  const notice = "Alice Brand turned on disappearing messages";
  await seeText(a.page.locator("#message-list"), notice);
  await seeText(b.page.locator("#message-list"), notice);

  await send(a.page, "This one goes away");
  const mark = a.page.locator(".msg-mine", { hasText: "This one goes away" }).locator(".msg-expires");
  await mark.waitFor();
  assert.match(await mark.getAttribute("title"), /^Disappears /);
  await b.page.locator(".msg-theirs", { hasText: "This one goes away" }).locator(".msg-expires").waitFor();
  // quota_updated after the send.
  await seeText(quota, "1 of 3 free messages left today");

  // The other side sees the timer that is set, after opening the conversation again.
  await b.page.reload();
  await b.page.locator('#connection[data-state="connected"]').waitFor();
  await row(b.page, "Alice Brand").click();
  await seeText(b.page.locator(".msg-theirs"), "This one goes away");
  assert.equal(await b.page.getByLabel("Disappearing messages").inputValue(), "86400");

  await screenshot(a.page, "20-disappearing-messages");
  assert.deepEqual([...a.page.errors, ...b.page.errors], []);
  await a.context.close();
  await b.context.close();
});

test("a price offer's card says when it expires", async () => {
  const [brand, creator] = await users(server.base, ["brand", "brand_owner", "Bloom Cosmetics"], ["asha", "influencer", "Asha Rao"]);
  const { conversation } = await seedBid(server.base, brand, creator);
  const click = async (who, button_id, additional_data = {}) => {
    const res = await apiCall(server.base, who.token, "POST", `/api/messages/conversations/${conversation.id}/button-click`, { button_id, additional_data });
    assert.equal(res.success, true, JSON.stringify(res));
    return res;
  };
  await click(creator, "accept_connection");
  await click(brand, "send_project_details", { details: "Two reels" });
  await click(creator, "accept_project");
  const offered = await click(brand, "send_price_offer", { price: 5000 });
  const deadline = offered.conversation.current_action_data.expires_at;
  assert.equal(typeof deadline, "string");

  const c = await pageFor(browser, server.base, creator);
  await row(c.page, "Summer glow reel").click();
  const expires = c.page.locator(".card .card-expires time").last();
  await expires.waitFor();
  assert.equal(await expires.getAttribute("datetime"), deadline);
  await seeText(c.page.locator(".card-expires").last(), "Offer expires");
  assert.deepEqual(c.page.errors, []);
  await c.context.close();
});
