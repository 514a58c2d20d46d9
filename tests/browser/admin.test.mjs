// The admin page in headless Chromium: an admin signs in with a token, sees
// a reported message in the queue, bans its sender, and the sender's open
// demo page signs out; the charts are drawn; a non-admin token is refused.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { apiCall, artifacts, launchBrowser, openPage, pageFor, root, screenshot, seeText, startServer, users } from "./harness.mjs";

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

async function adminPage(token) {
  const { context, page } = await openPage(browser, server.base, "admin");
  await page.goto("/admin");
  await page.locator("#admin-token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  return { context, page };
}

/** Whether a canvas has any pixel drawn on it. */
async function drawn(page, id) {
  return page.evaluate((id) => {
    const c = document.getElementById(id);
    if (!c || c.width === 0 || c.height === 0) return false;
    const pixels = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
    return false;
  }, id);
}

test("an admin bans a reported user from the queue; the user's page signs out", async () => {
  const [alice, bob, admin] = await users(
    server.base,
    ["alice", "brand_owner", "Alice Brand"],
    ["bob", "influencer", "Bob Creator"],
    ["admin", "admin", "Ada Admin"],
  );
  const { conversation } = await apiCall(server.base, alice.token, "POST", "/api/messages/direct-connect", {
    target_user_id: bob.id,
    initial_message: "Hello Bob, interested in a reel?",
  });
  const sent = await apiCall(server.base, bob.token, "POST", "/api/messages/send", {
    conversation_id: conversation.id,
    message: "Skip the fees, call me on 98765 43210",
  });
  assert.deepEqual(sent.message.moderation, { masked: ["phone"] });
  const flagged = await apiCall(server.base, alice.token, "POST", `/api/messages/${sent.message.id}/flag`, {
    reason: "off_platform",
    note: "wants to pay outside",
  });
  assert.equal(flagged.success, true);

  const bobPage = await pageFor(browser, server.base, bob);

  // A non-admin token is refused.
  const refused = await adminPage(alice.token);
  await seeText(refused.page, "access refused");
  assert.equal(await refused.page.locator("#admin-app").isHidden(), true);
  await refused.context.close();

  const { page } = await adminPage(admin.token);
  const item = page.locator(".flag").filter({ hasText: "off_platform" });
  await item.waitFor();
  await seeText(item, "Skip the fees, call me on •••");
  await seeText(item, "Original: Skip the fees, call me on 98765 43210");
  for (const id of ["chart-per-day", "chart-hours", "chart-funnel", "chart-payments"]) {
    await page.waitForFunction((id) => Chart.getChart(id) !== undefined, id);
    assert.equal(await drawn(page, id), true, `${id} is drawn`);
  }
  await screenshot(page, "admin");
  // docs/ changes only on request, like the other README pictures.
  if (process.env.UPDATE_README_SCREENSHOTS) {
    mkdirSync(join(root, "docs"), { recursive: true });
    copyFileSync(join(artifacts, "admin.png"), join(root, "docs/admin.png"));
  }

  await item.getByRole("button", { name: "Ban user" }).click();
  await seeText(bobPage.page, "This account is banned");
  assert.equal(await bobPage.page.locator("#signin-view").isVisible(), true);
  await page.locator(".flag").first().waitFor({ state: "detached" });
  await seeText(page.locator("#audit-list"), "ban_user");

  // Signing in again is refused while the ban lasts.
  const res = await fetch(`${server.base}/api/messages/unread-count`, { headers: { authorization: `Bearer ${bob.token}` } });
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error_code, "USER_BANNED");
});
