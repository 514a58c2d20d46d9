// With gateway keys configured the page pays through Razorpay Checkout: it
// loads checkout.js only then, opens it with the card's order, and hands the
// signed result to POST /api/payments/verify. Here a local stand-in plays
// the gateway's orders API and checkout.js (intercepted, never fetched).

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { apiCall, devToken, launchBrowser, liveCard, openPage, screenshot, seeText, signIn, startServer, uid } from "./harness.mjs";

const KEY_ID = "rzp_test_browser";
const KEY_SECRET = "browser-key-secret";

/** The part of the orders API the server calls: create, and fetch by id. */
async function startOrdersApi() {
  const orders = new Map();
  const http = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const send = (status, body) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const auth = `Basic ${Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString("base64")}`;
      if (req.headers.authorization !== auth) return send(401, { error: { code: "BAD_REQUEST_ERROR" } });
      if (req.method === "POST" && req.url === "/v1/orders") {
        const input = JSON.parse(raw);
        const order = {
          id: `order_browser${orders.size + 1}`,
          entity: "order",
          amount: input.amount,
          amount_paid: 0,
          currency: input.currency,
          receipt: input.receipt,
          status: "created",
        };
        orders.set(order.id, order);
        return send(200, order);
      }
      const found = req.method === "GET" && orders.get(req.url.replace("/v1/orders/", ""));
      return found ? send(200, found) : send(404, { error: { code: "BAD_REQUEST_ERROR" } });
    });
  });
  await new Promise((ready) => http.listen(0, "127.0.0.1", ready));
  return { base: `http://127.0.0.1:${http.address().port}`, orders, close: () => new Promise((done) => http.close(done)) };
}

// What the page gets instead of Razorpay's script: a constructor that asks
// the test to "pay" and calls the handler with the result.
const CHECKOUT_STAND_IN = `
window.Razorpay = function (options) { this.options = options; this.events = {}; };
window.Razorpay.prototype.on = function (name, fn) { this.events[name] = fn; };
window.Razorpay.prototype.open = function () {
  const o = this.options;
  window.parleyTestCheckout({ key: o.key, order_id: o.order_id, amount: o.amount, currency: o.currency, name: o.name })
    .then((result) => o.handler(result));
};`;

let gateway;
let server;
let browser;

before(async () => {
  gateway = await startOrdersApi();
  server = await startServer({
    RAZORPAY_KEY_ID: KEY_ID,
    RAZORPAY_KEY_SECRET: KEY_SECRET,
    RAZORPAY_WEBHOOK_SECRET: "browser-webhook-secret",
    RAZORPAY_API_BASE: gateway.base,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await gateway?.close();
});

test("the brand pays through Razorpay Checkout and the server verifies it", async () => {
  const brandId = uid("brand");
  const creatorId = uid("creator");
  const brandToken = await devToken(server.base, brandId, "brand_owner", "Nimbus Foods");
  const creatorToken = await devToken(server.base, creatorId, "influencer", "Leela");

  // Bring a campaign conversation to payment through the API.
  const { campaign } = await apiCall(server.base, brandToken, "POST", "/api/campaigns", { title: "Snack week", budget: 8000 });
  await apiCall(server.base, creatorToken, "POST", "/api/requests", { campaign_id: campaign.id });
  const { conversation } = await apiCall(server.base, brandToken, "POST", "/api/campaigns/automated/initialize", {
    campaign_id: campaign.id,
    influencer_id: creatorId,
  });
  const click = (token, button_id, additional_data = {}) =>
    apiCall(server.base, token, "POST", `/api/messages/conversations/${conversation.id}/button-click`, { button_id, additional_data });
  await click(creatorToken, "accept_connection");
  await click(brandToken, "send_project_details", { details: "Three stories" });
  await click(creatorToken, "accept_project");
  await click(brandToken, "send_price_offer", { price: 8000 });
  const accepted = await click(creatorToken, "accept_price");
  assert.equal(accepted.conversation.flow_state, "payment_pending");

  const { page, context } = await openPage(browser, server.base, "brand");
  const checkouts = [];
  const scriptRequests = [];
  await context.route("https://checkout.razorpay.com/**", (route) => {
    scriptRequests.push(route.request().url());
    route.fulfill({ status: 200, contentType: "text/javascript", body: CHECKOUT_STAND_IN });
  });
  await context.exposeFunction("parleyTestCheckout", (opened) => {
    checkouts.push(opened);
    const paymentId = "pay_browser1";
    const signature = createHmac("sha256", KEY_SECRET).update(`${opened.order_id}|${paymentId}`).digest("hex");
    return { razorpay_order_id: opened.order_id, razorpay_payment_id: paymentId, razorpay_signature: signature };
  });

  await signIn(page, { name: "Nimbus Foods", id: brandId, role: "brand_owner" });
  await page.locator("#conversation-list .conversation", { hasText: "Leela" }).click();
  await liveCard(page, "Proceed to payment").getByRole("button", { name: "Pay ₹8,000" }).click();
  const payment = liveCard(page, "Complete the payment");
  await payment.waitFor();
  assert.equal(scriptRequests.length, 0, "checkout.js is loaded only when paying");
  await payment.getByRole("button", { name: "Pay ₹8,000", exact: true }).click();
  await seeText(page.locator(".card", { hasText: "Payment received" }), "Waiting for Leela to start the work");
  await screenshot(page, "10-checkout-paid");

  assert.deepEqual(scriptRequests, ["https://checkout.razorpay.com/v1/checkout.js"]);
  const [order] = [...gateway.orders.values()];
  assert.deepEqual(checkouts, [{ key: KEY_ID, order_id: order.id, amount: 800000, currency: "INR", name: checkouts[0].name }]);
  const after = await apiCall(server.base, creatorToken, "GET", `/api/messages/conversations/${conversation.id}/context`);
  assert.equal(after.conversation.flow_state, "payment_completed");
  assert.equal(after.conversation.flow_data.payment.payment_id, "pay_browser1");
  assert.deepEqual(page.errors, []);
  await context.close();
});
