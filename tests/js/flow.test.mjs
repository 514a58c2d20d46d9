// Whole collaborations driven from the official socket.io-client by a
// generic card client: each side renders whatever card is addressed to its
// role and answers it, knowing nothing of the flow but a few choices.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startServer, token, uid, api, waitFor, emitAck } from "./harness.mjs";
import { startGateway, checkoutResult, deliverCapture } from "./gateway.mjs";

let server;
let gateway;
before(async () => {
  gateway = await startGateway();
  server = await startServer({ ...gateway.env, MAX_REVISIONS: "2" });
});
after(async () => {
  await server?.stop();
  await gateway?.close();
});

/** A participant: a socket that collects the cards addressed to its role. */
class Side {
  constructor(id, role) {
    this.id = id;
    this.role = role;
    this.token = token(id, role);
    this.cards = [];
    this.events = [];
  }

  async connect(conversationId) {
    this.socket = io(server.base, { auth: { token: this.token }, transports: ["websocket"], reconnection: false, forceNew: true });
    await new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("connect_error", reject);
    });
    for (const name of ["conversation_state_changed", "notification", "button_action", "text_input"]) {
      this.socket.on(name, (data) => this.events.push({ name, data }));
    }
    this.socket.on("new_message", ({ message }) => {
      this.events.push({ name: "new_message", data: message });
      if (message.action_required && message.action_data?.visible_to === this.role) this.cards.push(message);
    });
    const joined = await emitAck(this.socket, "join_conversation", conversationId);
    assert.equal(joined.success, true);
    // Cards written before this socket connected are caught up by sync_messages.
    const synced = await emitAck(this.socket, "sync_messages", { conversationId });
    for (const m of synced.messages) {
      if (m.action_required && !m.action_completed && m.action_data?.visible_to === this.role) this.cards.push(m);
    }
    this.conversationId = conversationId;
  }

  /** The next card for this side, in the given flow state. */
  async card(state) {
    const deadline = Date.now() + 10000;
    for (;;) {
      const i = this.cards.findIndex((c) => c.action_data.flow_state === state);
      if (i >= 0) return this.cards.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`${this.role} never got a ${state} card; has ${this.cards.map((c) => c.action_data.flow_state)}`);
      await new Promise((r) => this.socket.once("new_message", r)).catch(() => {});
    }
  }

  /** Presses a card's button, sending the button's own data. */
  async press(card, buttonId) {
    const button = card.action_data.buttons.find((b) => b.id === buttonId);
    assert.ok(button, `no ${buttonId} on ${card.action_data.flow_state}: ${JSON.stringify(card.action_data.buttons)}`);
    return this.ack("button_action", { conversationId: this.conversationId, button_id: button.action, additional_data: button.data });
  }

  /** Fills a card's inputs and submits them. */
  async fill(card, values) {
    const a = card.action_data;
    if (a.input_fields) {
      for (const f of a.input_fields) if (f.required) assert.ok(values[f.id], `missing ${f.id}`);
      return this.ack("button_action", { conversationId: this.conversationId, button_id: a.submit_action, additional_data: values });
    }
    assert.ok(a.input_field, `${a.flow_state} has no input`);
    return this.ack("text_input", { conversationId: this.conversationId, input_type: a.submit_action, text: values[a.input_field.id] });
  }

  async ack(event, payload) {
    const reply = await emitAck(this.socket, event, payload);
    assert.equal(reply.success, true, `${event} ${JSON.stringify(payload)} -> ${JSON.stringify(reply)}`);
    return reply;
  }

  saw(name, pred = () => true) {
    return this.events.some((e) => e.name === name && pred(e.data));
  }
}

async function open(kind) {
  const brand = new Side(uid("brand"), "brand_owner");
  const creator = new Side(uid("creator"), "influencer");
  await api(server.base, "GET", "/api/messages/unread-count", creator.token);
  let init;
  if (kind === "bid") {
    const bid = await api(server.base, "POST", "/api/bids", brand.token, { title: "Monsoon reels", max_budget: 9000 });
    assert.equal(bid.status, 201);
    const applied = await api(server.base, "POST", "/api/requests", creator.token, { bid_id: bid.body.bid.id, proposed_amount: 4000 });
    assert.equal(applied.status, 201);
    init = await api(server.base, "POST", "/api/bids/automated/initialize", brand.token, { bid_id: bid.body.bid.id, influencer_id: creator.id, proposed_amount: 4000 });
  } else {
    const c = await api(server.base, "POST", "/api/campaigns", brand.token, { title: "Festive launch", description: "Two posts", budget: 7000 });
    assert.equal(c.status, 201);
    init = await api(server.base, "POST", "/api/campaigns/automated/initialize", brand.token, { campaign_id: c.body.campaign.id, influencer_id: creator.id });
  }
  assert.equal(init.status, 201, JSON.stringify(init.body));
  assert.equal(init.body.flow_state, "influencer_responding");
  const id = init.body.conversation.id;
  await brand.connect(id);
  await creator.connect(id);
  return { brand, creator, id };
}

async function runCollaboration(kind, pay) {
  const { brand, creator, id } = await open(kind);
  try {
    const refused = await emitAck(creator.socket, "send_message", { conversationId: id, message: "Hello?" });
    assert.equal(refused.error_code, "CHAT_NOT_ENABLED");

    await creator.press(await creator.card("influencer_responding"), "accept_connection");
    await brand.fill(await brand.card("brand_owner_details"), { details: "Two posts and a story, due in a week" });
    const review = await creator.card("influencer_reviewing");
    assert.match(review.action_data.subtitle, /Two posts/);
    await creator.press(review, "accept_project");

    const pricing = await brand.card("brand_owner_pricing");
    if (kind === "bid") {
      assert.equal(pricing.action_data.input_field.value, 4000, "the proposed amount is pre-filled");
      await brand.press(pricing, "send_price_offer");
    } else {
      await brand.fill(pricing, { price: "6,000" });
    }
    const offer = await creator.card("influencer_price_response");
    assert.ok(offer.action_data.payment_breakdown.total > 0);
    const turn = await emitAck(brand.socket, "button_action", { conversationId: id, button_id: "accept_price" });
    assert.equal(turn.error_code, "NOT_YOUR_TURN");
    await creator.press(offer, "negotiate_price");
    await creator.fill(await creator.card("negotiation_input"), { price: "₹6,500" });
    const counter = await brand.card("brand_owner_negotiation");
    assert.equal(counter.action_data.payment_breakdown.total, 6500);
    assert.equal(counter.action_data.payment_breakdown.commission, 650);
    await brand.press(counter, "accept_counter_offer");

    const payCard = await brand.card("payment_pending");
    const proceeded = await brand.press(payCard, "proceed_to_payment");
    assert.equal(proceeded.conversation.flow_state, "payment_pending");
    const checkout = proceeded.messages.find((m) => m.action_data?.payment_order).action_data.payment_order.razorpay_config;
    assert.equal(checkout.amount, 650000);
    assert.equal(checkout.currency, "INR");
    assert.equal(checkout.key_id, "rzp_test_jsuite");
    assert.deepEqual(gateway.refused, []);

    const completed = waitFor(creator.socket, "notification", (n) => n.type === "payment_completed");
    await pay(brand, id, checkout);
    assert.equal((await completed).data.conversation_id, id);
    const paidState = (c) => c.new_state === "payment_completed";
    if (!brand.saw("conversation_state_changed", paidState)) await waitFor(brand.socket, "conversation_state_changed", paidState);

    await creator.press(await creator.card("payment_completed"), "start_work");
    const work = { deliverables: "https://drive.example.com/posts", description: "Two posts and a story", submission_notes: "Captions included" };
    await creator.fill(await creator.card("work_in_progress"), work);
    await brand.fill(await brand.card("work_submitted"), { feedback: "Please add the product link" });
    const revision = await creator.card("work_in_progress");
    assert.match(revision.action_data.subtitle, /product link/);
    await creator.fill(revision, { ...work, submission_notes: "Link added" });
    const approved = await brand.press(await brand.card("work_submitted"), "approve_work");
    assert.equal(approved.conversation.flow_state, "real_time");
    assert.equal(approved.conversation.chat_status, "real_time");

    const arrived = waitFor(brand.socket, "new_message", (d) => d.message.message === "Loved working on this!");
    await creator.ack("send_message", { conversationId: id, message: "Loved working on this!" });
    await arrived;
    const closing = waitFor(creator.socket, "notification", (n) => n.type === "conversation_closed");
    const closed = await brand.ack("button_action", { conversationId: id, button_id: "close_chat" });
    assert.equal(closed.conversation.flow_state, "chat_closed");
    await closing;
    const late = await emitAck(creator.socket, "send_message", { conversationId: id, message: "one more thing" });
    assert.equal(late.error_code, "CONVERSATION_CLOSED");

    // Both saw every step as state changes; neither ever received the other's audit.
    for (const side of [brand, creator]) {
      for (const state of ["brand_owner_details", "payment_pending", "payment_completed", "work_submitted", "work_approved", "real_time", "chat_closed"]) {
        assert.ok(side.saw("conversation_state_changed", (c) => c.new_state === state), `${side.role} missed ${state}`);
      }
      const other = side === brand ? creator : brand;
      assert.ok(!side.saw("new_message", (m) => m.message_type === "audit" && m.receiver_id === other.id), `${side.role} got an audit of the other side`);
      assert.ok(side.saw("new_message", (m) => m.message_type === "audit" && m.receiver_id === side.id), `${side.role} got no audits`);
    }
    const history = await api(server.base, "GET", `/api/messages/conversations/${id}/messages?limit=100`, creator.token);
    const flowData = history.body.messages.length && (await api(server.base, "GET", `/api/messages/conversations/${id}/context`, creator.token)).body.conversation.flow_data;
    assert.equal(flowData.agreed_price.amount, 6500);
    assert.equal(flowData.revision_count, 1);
    assert.equal(flowData.payment.status, "paid");
  } finally {
    brand.socket?.close();
    creator.socket?.close();
  }
}

test("a bid collaboration end to end, paid by webhook", async () => {
  await runCollaboration("bid", async (_brand, _id, checkout) => {
    const res = await deliverCapture(server.base, checkout.order_id, "pay_js_webhook", checkout.amount, `evt_${Date.now()}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.processed, true);
  });
});

test("a campaign collaboration end to end, paid by checkout verification", async () => {
  await runCollaboration("campaign", async (brand, id, checkout) => {
    const res = await api(server.base, "POST", "/api/payments/verify", brand.token, { conversation_id: id, ...checkoutResult(checkout.order_id, "pay_js_checkout") });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.conversation.flow_state, "payment_completed");
    assert.equal(res.body.payment.status, "paid");
  });
});
