// A stand-in for Razorpay's orders API, plus the signatures the real
// gateway and checkout produce, for driving payments end to end.

import { createServer } from "node:http";
import { createHmac } from "node:crypto";

export const KEY_ID = "rzp_test_jsuite";
export const KEY_SECRET = "js-key-secret";
export const WEBHOOK_SECRET = "js-webhook-secret";

export async function startGateway() {
  const orders = [];
  const refused = [];
  const expectedAuth = "Basic " + Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString("base64");
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const reply = (status, value) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (req.headers.authorization !== expectedAuth) {
        refused.push(`auth ${req.method} ${req.url}`);
        return reply(401, { error: { code: "BAD_REQUEST_ERROR" } });
      }
      if (req.method === "POST" && req.url === "/v1/orders") {
        const o = JSON.parse(body);
        if (!Number.isInteger(o.amount) || o.currency !== "INR" || !o.receipt || o.receipt.length > 40) {
          refused.push(`body ${body}`);
          return reply(400, { error: { code: "BAD_REQUEST_ERROR" } });
        }
        const order = { id: `order_js${String(orders.length + 1).padStart(10, "0")}`, entity: "order", amount: o.amount, amount_paid: 0, currency: o.currency, receipt: o.receipt, status: "created", notes: o.notes };
        orders.push(order);
        return reply(200, order);
      }
      const m = req.url.match(/^\/v1\/orders\/(.+)$/);
      if (req.method === "GET" && m) {
        const order = orders.find((o) => o.id === m[1]);
        return order ? reply(200, order) : reply(404, { error: { code: "BAD_REQUEST_ERROR" } });
      }
      reply(404, {});
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    orders,
    refused,
    env: { RAZORPAY_KEY_ID: KEY_ID, RAZORPAY_KEY_SECRET: KEY_SECRET, RAZORPAY_WEBHOOK_SECRET: WEBHOOK_SECRET, RAZORPAY_API_BASE: base },
    close: () => new Promise((r) => server.close(r)),
  };
}

export const hmacHex = (secret, text) => createHmac("sha256", secret).update(text).digest("hex");

/** What Razorpay Checkout returns to the page after a successful payment. */
export function checkoutResult(orderId, paymentId) {
  return { razorpay_order_id: orderId, razorpay_payment_id: paymentId, razorpay_signature: hmacHex(KEY_SECRET, `${orderId}|${paymentId}`) };
}

/** Delivers a signed `payment.captured` webhook, as the gateway would. */
export async function deliverCapture(serverBase, orderId, paymentId, amount, eventId) {
  const body = JSON.stringify({
    entity: "event",
    event: "payment.captured",
    contains: ["payment"],
    payload: { payment: { entity: { id: paymentId, entity: "payment", amount, currency: "INR", status: "captured", order_id: orderId } } },
    created_at: Math.floor(Date.now() / 1000),
  });
  const res = await fetch(`${serverBase}/webhook/razorpay`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-razorpay-signature": hmacHex(WEBHOOK_SECRET, body), "x-razorpay-event-id": eventId },
    body,
  });
  return { status: res.status, body: await res.json() };
}
