// A brand owner and a creator, each in their own browser context, run a
// whole bid collaboration through the page alone: application, every card,
// a counter-offer, the sandbox payment, work, approval, then free chat.

import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  artifacts,
  launchBrowser,
  liveCard,
  openPage,
  root,
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

test("a bid collaboration from application to free chat, in two browsers", async () => {
  const brandId = uid("brand");
  const creatorId = uid("creator");
  const { page: brand } = await openPage(browser, server.base, "brand");
  const { page: creator } = await openPage(browser, server.base, "creator");
  // Nothing may come from outside the server (the sandbox needs no checkout.js).
  const outside = [];
  for (const page of [brand, creator]) {
    page.on("request", (r) => {
      if (!r.url().startsWith(server.base)) outside.push(r.url());
    });
  }
  await screenshot(brand, "01-sign-in");

  await signIn(brand, { name: "Bloom Cosmetics", id: brandId, role: "brand_owner" });
  await signIn(creator, { name: "Asha Rao", id: creatorId, role: "influencer" });

  // The brand owner publishes a bid.
  await brand.getByRole("tab", { name: "Marketplace" }).click();
  await brand.getByText("Create a bid", { exact: true }).click();
  const bidForm = brand.locator("details", { hasText: "Create a bid" });
  await bidForm.getByLabel("Title").fill("Summer glow reel");
  await bidForm.getByLabel("Description").fill("Two reels about the summer range");
  await bidForm.getByLabel("Minimum budget (₹)").fill("3000");
  await bidForm.getByLabel("Maximum budget (₹)").fill("6000");
  await bidForm.getByRole("button", { name: "Create bid" }).click();
  const bidItem = brand.locator(".source", { hasText: "Summer glow reel" });
  await bidItem.waitFor();
  const bidId = (await bidItem.locator(".source-id-value").textContent()).trim();

  // The creator opens it by id (as if the brand had shared it) and applies.
  await creator.getByRole("tab", { name: "Marketplace" }).click();
  await creator.getByLabel("Campaign or bid id (or link)").fill(bidId);
  await creator.getByRole("button", { name: "Open", exact: true }).click();
  const bidView = creator.locator("article", { hasText: "Summer glow reel" });
  await bidView.getByLabel("Your price (₹)").fill("5000");
  await bidView.getByLabel("Message to the brand").fill("I'd love to do this.");
  await bidView.getByRole("button", { name: "Apply" }).click();
  await seeText(bidView, "Applied.");
  await screenshot(creator, "02-creator-applied");

  // The application reaches the brand live; it opens the conversation.
  const applicant = bidItem.locator(".applicant", { hasText: creatorId });
  await applicant.waitFor();
  assert.equal(await applicant.getByLabel("Proposed amount (₹)").inputValue(), "5000");
  await screenshot(brand, "03-brand-applicants");
  await applicant.getByRole("button", { name: "Open conversation with Asha Rao" }).click();
  await seeText(brand.locator("#chat-title"), "Asha Rao");
  await seeText(brand.locator(".card"), "Waiting for Asha Rao to respond");

  // Free text is not possible before the flow reaches real-time chat, and the page says why.
  assert.equal(await brand.getByLabel("Message", { exact: true }).isDisabled(), true);
  await seeText(brand.locator("#composer-lock"), "Free chat is not open yet");

  // The creator sees the new conversation in the list, with a badge, and opens it.
  await creator.getByRole("tab", { name: "Chats" }).click();
  const item = creator.locator("#conversation-list .conversation", { hasText: "Bloom Cosmetics" });
  await item.waitFor();
  await item.locator(".badge-unread").waitFor();
  await item.click();
  await liveCard(creator, "Collaboration request").getByRole("button", { name: "Accept" }).click();

  const details = liveCard(brand, "Share project details");
  await details.getByLabel("Describe the deliverables, timeline and guidelines").fill("Two 30 s reels by 1 July");
  await details.getByRole("button", { name: "Send details" }).click();

  await liveCard(creator, "Review project details").getByRole("button", { name: "Accept project" }).click();

  // Pricing: the brand offers less than proposed, the creator counters.
  const pricing = liveCard(brand, "Send your price offer");
  await pricing.getByLabel("Price in ₹").fill("4000");
  await pricing.getByRole("button", { name: "Send offer" }).click();

  const offer = liveCard(creator, "Respond to price offer");
  await seeText(offer, "Creator receives");
  await offer.getByRole("button", { name: "Negotiate" }).click();
  const counter = liveCard(creator, "Make a counter-offer");
  await counter.getByLabel("Your price in ₹").fill("4500");
  await screenshot(creator, "04-counter-offer");
  await counter.getByRole("button", { name: "Send counter-offer" }).click();

  const negotiation = liveCard(brand, "Respond to counter-offer");
  await seeText(negotiation, "Counter-offer: ₹4,500");
  await negotiation.getByRole("button", { name: "Accept" }).click();

  // Payment through the development sandbox.
  await liveCard(brand, "Proceed to payment").getByRole("button", { name: /^Pay/ }).click();
  const payment = liveCard(brand, "Complete the payment");
  await seeText(payment, "Total");
  await screenshot(brand, "05-payment-card");
  await payment.getByRole("button", { name: /\(sandbox\)$/ }).click();

  // Work.
  await liveCard(creator, "Payment received").getByRole("button", { name: "Start work" }).click();
  const submit = liveCard(creator, "Submit your work");
  await submit.getByLabel("Links to the deliverables").fill("https://example.com/reels");
  await submit.getByLabel("What you delivered").fill("Two reels, 30 s each");
  await submit.getByRole("button", { name: "Submit work" }).click();

  // One revision round, then approval.
  const review = liveCard(brand, "Review the submitted work");
  await seeText(review, "https://example.com/reels");
  await seeText(review, "3 revisions left");
  await review.getByLabel("What should change?").fill("Brighter colours, please");
  await review.getByRole("button", { name: "Request revision" }).click();
  const resubmit = liveCard(creator, "Submit your work");
  await seeText(resubmit, "Revision requested: Brighter colours, please");
  await resubmit.getByLabel("Links to the deliverables").fill("https://example.com/reels-v2");
  await resubmit.getByLabel("What you delivered").fill("Two brighter reels");
  await resubmit.getByLabel("Notes for the brand (optional)").fill("Colours graded warmer");
  await resubmit.getByRole("button", { name: "Submit work" }).click();
  const review2 = liveCard(brand, "Review the submitted work");
  await seeText(review2, "2 revisions left");
  await seeText(review2, "Colours graded warmer");
  await review2.getByRole("button", { name: "Approve" }).click();
  await seeText(creator.locator(".message-list"), "Real-time chat is now open");

  // Free chat: typing shows on the other side, then the message, then the seen tick.
  const box = creator.getByLabel("Message", { exact: true });
  await box.pressSequentially("Thanks for", { delay: 20 });
  await seeText(brand.locator("#typing"), "Asha Rao is typing…");
  await box.pressSequentially(" the collaboration!", { delay: 5 });
  await box.press("Enter");
  await seeText(brand.locator(".msg-theirs"), "Thanks for the collaboration!");
  const sent = creator.locator(".msg-mine", { hasText: "Thanks for the collaboration!" });
  await sent.locator('[data-status="seen"]').waitFor();
  await brand.locator("#typing").filter({ hasText: /^$/ }).waitFor({ state: "attached" });

  await brand.getByLabel("Message", { exact: true }).fill("Great work, talk soon");
  await brand.getByRole("button", { name: "Send" }).click();
  await seeText(creator.locator(".msg-theirs"), "Great work, talk soon");
  await brand.locator(".msg-mine", { hasText: "Great work, talk soon" }).locator('[data-status="seen"]').waitFor();
  await seeText(brand.locator("#presence-text"), "In this conversation");

  for (const page of [brand, creator]) {
    await page.locator(".toast-close").evaluateAll((buttons) => buttons.forEach((b) => b.click()));
  }
  await screenshot(creator, "06-creator-chat");
  await screenshot(brand, "07-brand-chat");
  if (process.env.UPDATE_README_SCREENSHOTS) {
    mkdirSync(join(root, "docs"), { recursive: true });
    copyFileSync(join(artifacts, "07-brand-chat.png"), join(root, "docs/screenshot.png"));
  }
  // Either side may close the chat; the other side sees it closed.
  await brand.getByRole("button", { name: "Close chat" }).click();
  await brand.getByRole("button", { name: "Confirm: close chat" }).click();
  await seeText(creator.locator(".message-list"), "This conversation is now closed");
  await creator.locator('#chat-main[data-chat-status="closed"]').waitFor();
  assert.equal(await creator.getByLabel("Message", { exact: true }).isDisabled(), true);

  assert.deepEqual(outside, []);
  assert.deepEqual([...brand.dialogs, ...creator.dialogs], []);
  assert.deepEqual([...brand.errors, ...creator.errors], []);
});
