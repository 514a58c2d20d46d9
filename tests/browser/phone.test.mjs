// The page on a phone (390×844): the list, then one conversation with a way
// back, a header that stays on two lines and a composer in sight.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, liveCard, pageFor, row, screenshot, seedBid, seeText, startServer, users } from "./harness.mjs";

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

/** How many lines of text an element's content takes (boxes that overlap vertically share one). */
function lines(locator) {
  return locator.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const boxes = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0).sort((a, b) => a.top - b.top);
    let count = 0;
    let bottom = -Infinity;
    for (const r of boxes) {
      if (r.top >= bottom - 1) {
        count++;
        bottom = r.bottom;
      } else {
        bottom = Math.max(bottom, r.bottom);
      }
    }
    return count;
  });
}

test("on a phone: the list, then the conversation with a way back", async () => {
  const [brand, creator] = await users(server.base, ["brand", "brand_owner", "Bloom Cosmetics International"], ["asha", "influencer", "Asha Rao"]);
  await seedBid(server.base, brand, creator, { title: "Summer glow reel for the monsoon launch" });
  const { page, context } = await pageFor(browser, server.base, creator, PHONE);

  // The top bar is one line.
  const bar = await page.locator(".topbar").boundingBox();
  assert.ok(bar.height <= 60, `top bar ${bar.height}px high`);
  assert.ok(bar.width <= PHONE.width);

  // First the list alone.
  const item = row(page, "Summer glow reel");
  await item.waitFor();
  assert.equal(await page.locator("#chat").isVisible(), false);
  await screenshot(page, "phone-list");

  await item.click();
  await liveCard(page, "Collaboration request").waitFor();
  assert.equal(await page.locator(".sidebar").isVisible(), false);
  const back = page.getByRole("button", { name: "Back to conversations" });
  await back.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "chat-back");

  // The header: two lines at most, all of it inside the screen.
  const header = page.locator(".chat-header");
  const heading = page.locator(".chat-heading");
  assert.ok((await lines(heading)) <= 2, `${await lines(heading)} lines`);
  const hb = await header.boundingBox();
  assert.ok(hb.height <= 72, `header ${hb.height}px high`);
  assert.ok(hb.x >= 0 && hb.x + hb.width <= PHONE.width);
  await seeText(page.locator("#chat-turn"), "Your turn");

  // The composer is on screen, whole.
  const composer = await page.locator("#composer").boundingBox();
  assert.ok(composer.y >= 0 && composer.y + composer.height <= PHONE.height, JSON.stringify(composer));
  const input = await page.locator("#composer-input").boundingBox();
  assert.ok(input.y + input.height <= PHONE.height);
  // The page itself does not scroll sideways or down: the messages do.
  const overflow = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]);
  assert.deepEqual(overflow, [PHONE.width, PHONE.height]);
  await screenshot(page, "phone-chat");

  // The conversation's actions fold into a menu; Escape closes it.
  const more = page.getByRole("button", { name: "Conversation actions" });
  await more.click();
  await page.getByRole("button", { name: "Cancel collaboration" }).waitFor();
  await page.keyboard.press("Escape");
  await page.getByRole("button", { name: "Cancel collaboration" }).waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => document.activeElement?.id), "chat-more");

  await back.click();
  await item.waitFor();
  assert.equal(await page.locator("#chat").isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement?.closest(".conversation") !== null), true);

  // The phone's own Back does the same.
  await item.click();
  await liveCard(page, "Collaboration request").waitFor();
  await page.goBack();
  await item.waitFor();
  assert.equal(await page.locator("#chat").isVisible(), false);
  assert.deepEqual(page.errors, []);
  await context.close();
});
