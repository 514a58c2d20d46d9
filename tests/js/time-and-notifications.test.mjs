// Events of stored notifications (section 10) and the time rules (section
// 14), heard by the official socket.io-client. The server runs with short
// lifetimes (1 s messages, 1.5 s offers) so that each event comes soon;
// the tests wait for the events, never for a fixed time.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startServer, token, uid, api, waitFor, emitAck, connect, directPair } from "./harness.mjs";

let server;
before(async () => {
  server = await startServer({
    MESSAGE_TTL_MIN_SECONDS: "1",
    OFFER_TTL_MS: "1500",
    QUOTA_DAILY_FREE: "1",
    QUOTA_POINTS_PER_MESSAGE: "5",
  });
});
after(async () => {
  await server?.stop();
});



describe("stored notifications", () => {
  test("a notification event carries its stored row, and reads reach the other devices", async () => {
    const p = await directPair(server.base, ["a", "b"]);
    const [phone, laptop] = [await connect(server.base, p.bToken), await connect(server.base, p.bToken)];
    const sender = await connect(server.base, p.aToken);
    try {
      const arrived = waitFor(phone, "notification");
      await emitAck(sender, "send_message", { conversationId: p.conversationId, message: "hello" });
      const n = await arrived;
      assert.equal(n.type, "new_message");
      assert.equal(n.data.count, 1);
      assert.equal(typeof n.id, "string");
      const listed = await api(server.base, "GET", "/api/notifications", p.bToken);
      assert.equal(listed.body.notifications[0].id, n.id);
      const synced = waitFor(laptop, "notifications_updated");
      await api(server.base, "POST", `/api/notifications/${n.id}/read`, p.bToken, {});
      assert.deepEqual(await synced, { ids: [n.id], read: true, unread_count: 0 });
    } finally {
      [phone, laptop, sender].forEach((s) => s.close());
    }
  });
});

describe("time rules", () => {
  test("a disappearing message is announced with message_expired", async () => {
    const p = await directPair(server.base, ["a", "b"]);
    const b = await connect(server.base, p.bToken);
    try {
      const joined = await emitAck(b, "join_conversation", p.conversationId);
      assert.equal(joined.success, true);
      const sender = await connect(server.base, p.aToken);
      const ack = await emitAck(sender, "send_message", { conversationId: p.conversationId, message: "poof", expiresIn: 1 });
      assert.equal(ack.success, true, JSON.stringify(ack));
      assert.equal(typeof ack.message.expires_at, "string");
      const expired = await waitFor(b, "message_expired");
      assert.deepEqual(expired, { conversation_id: p.conversationId, message_ids: [ack.message.id] });
      const history = await api(server.base, "GET", `/api/messages/conversations/${p.conversationId}/messages`, p.bToken);
      assert.equal(history.body.messages.length, 0);
      sender.close();
    } finally {
      b.close();
    }
  });

  test("quota_updated follows each send, and QUOTA_EXCEEDED refuses with details", async () => {
    const p = await directPair(server.base, ["a", "b"]);
    const a = await connect(server.base, p.aToken);
    try {
      const updated = waitFor(a, "quota_updated");
      const first = await emitAck(a, "send_message", { conversationId: p.conversationId, message: "free" });
      assert.equal(first.success, true);
      const q = await updated;
      assert.equal(q.free_limit, 1);
      assert.equal(q.remaining_free, 0);
      const refused = await emitAck(a, "send_message", { conversationId: p.conversationId, message: "not free" });
      assert.equal(refused.error_code, "QUOTA_EXCEEDED");
      assert.deepEqual(refused.details, { remaining_free: 0, points_balance: 0, cost: 5 });
      // Without an ack, the failure is a message_error naming the client message id.
      const error = waitFor(a, "message_error");
      a.emit("send_message", { conversationId: p.conversationId, message: "again", clientMessageId: "c-7" });
      const e = await error;
      assert.equal(e.error_code, "QUOTA_EXCEEDED");
      assert.equal(e.clientMessageId, "c-7");
    } finally {
      a.close();
    }
  });

  test("an unanswered offer expires with a state change and offer_expired notifications", async () => {
    const [brand, creator] = [uid("brand"), uid("creator")];
    const [bt, ct] = [token(brand, "brand_owner"), token(creator, "influencer")];
    await api(server.base, "GET", "/api/messages/unread-count", ct);
    const bid = await api(server.base, "POST", "/api/bids", bt, { title: "Reels", max_budget: 9000 });
    const init = await api(server.base, "POST", "/api/bids/automated/initialize", bt, {
      bid_id: bid.body.bid.id,
      influencer_id: creator,
      proposed_amount: 4000,
    });
    const conversationId = init.body.conversation.id;
    const [bs, cs] = [await connect(server.base, bt), await connect(server.base, ct)];
    try {
      const click = async (s, button_id, additional_data = {}) => {
        const ack = await emitAck(s, "button_action", { conversationId, button_id, additional_data });
        assert.equal(ack.success, true, JSON.stringify(ack));
        return ack;
      };
      await click(cs, "accept_connection");
      await click(bs, "send_project_details", { details: "Two reels" });
      await click(cs, "accept_project");
      const changed = waitFor(bs, "conversation_state_changed", (e) => e.reason === "offer_expired");
      const brandNote = waitFor(bs, "notification", (n) => n.type === "offer_expired");
      const creatorNote = waitFor(cs, "notification", (n) => n.type === "offer_expired");
      const offered = await click(bs, "send_price_offer", { price: 5000 });
      assert.equal(typeof offered.conversation.current_action_data.expires_at, "string");
      const e = await changed;
      assert.equal(e.previous_state, "influencer_price_response");
      assert.equal(e.new_state, "brand_owner_pricing");
      for (const n of [await brandNote, await creatorNote]) assert.equal(n.conversation_id, conversationId);
    } finally {
      bs.close();
      cs.close();
    }
  });
});
