// The older Stoory `chat:*` protocol (contract section 15), spoken by the
// official socket.io-client the way the old mobile apps speak it: a token
// in the handshake or the `authenticate` event, `chat:join`, `chat:send`,
// `chat:read`, and the old protocol's events from the server.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startServer, token, uid, api, waitFor, record, emitAck, sign, connected, directPair } from "./harness.mjs";

/** How long a token-less socket has to authenticate on this server. */
const AUTH_TIMEOUT_MS = 600;

let server;
before(async () => {
  server = await startServer({ LEGACY_AUTH_EVENT: "true", LEGACY_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS) });
});
after(async () => {
  await server?.stop();
});

function socket(tokenValue, transports = ["websocket"]) {
  const auth = tokenValue === undefined ? {} : { token: tokenValue };
  return io(server.base, { auth, transports, reconnection: false, forceNew: true });
}


/** A socket that connected without a token and authenticated by event. */
async function authenticated(tokenValue, transports) {
  const s = await connected(socket(undefined, transports));
  const hello = waitFor(s, "authenticated");
  s.emit("authenticate", { token: tokenValue });
  await hello;
  return s;
}

/** A socket of the old protocol that has joined `conversationId`. */
async function joined(tokenValue, conversationId, transports) {
  const s = await connected(socket(tokenValue, transports));
  const ok = waitFor(s, "chat:joined");
  s.emit("chat:join", { conversationId });
  assert.deepEqual(await ok, { conversationId });
  return s;
}


/** A bid conversation just opened: the creator is asked to respond. */
async function bidConversation() {
  const brand = uid("brand");
  const creator = uid("creator");
  const brandToken = token(brand, "brand_owner");
  const creatorToken = token(creator, "influencer");
  await api(server.base, "GET", "/api/messages/unread-count", creatorToken);
  const bid = await api(server.base, "POST", "/api/bids", brandToken, { title: "Monsoon reels", max_budget: 9000 });
  assert.equal(bid.status, 201, JSON.stringify(bid.body));
  const applied = await api(server.base, "POST", "/api/requests", creatorToken, { bid_id: bid.body.bid.id, proposed_amount: 4000 });
  assert.equal(applied.status, 201, JSON.stringify(applied.body));
  const init = await api(server.base, "POST", "/api/bids/automated/initialize", brandToken, {
    bid_id: bid.body.bid.id,
    influencer_id: creator,
    proposed_amount: 4000,
  });
  assert.equal(init.status, 201, JSON.stringify(init.body));
  return { brand, creator, brandToken, creatorToken, conversationId: init.body.conversation.id };
}

/** The caller's messages of a conversation, as REST lists them. */
async function history(tokenValue, conversationId) {
  const res = await api(server.base, "GET", `/api/messages/conversations/${conversationId}/messages?limit=100`, tokenValue);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.messages;
}

/** Presses a card's button over REST, with the button's own data. */
async function press(tokenValue, conversationId, card, buttonId) {
  const button = card.action_data.buttons.find((b) => b.id === buttonId);
  assert.ok(button, `no ${buttonId} on ${card.action_data.flow_state}: ${JSON.stringify(card.action_data.buttons)}`);
  const res = await api(server.base, "POST", `/api/messages/conversations/${conversationId}/button-click`, tokenValue, {
    button_id: button.action,
    additional_data: button.data,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Resolves once `heard` (a record of `event` on `s`) holds a payload matching `pred`. */
function heardOrWait(heard, s, event, pred) {
  const found = heard.find(pred);
  return found ? Promise.resolve(found) : waitFor(s, event, pred);
}

const isCardIn = (state) => ({ message: m }) => m.action_required && m.action_data?.flow_state === state;

describe("authentication", () => {
  test("a token in the handshake is enough: chat:join answers chat:joined at once", async () => {
    const { aToken, conversationId } = await directPair(server.base);
    const s = await connected(socket(aToken));
    try {
      const ack = await emitAck(s, "chat:join", { conversationId });
      assert.deepEqual(ack, { success: true, conversationId });
    } finally {
      s.close();
    }
  });

  test("authenticate {token} answers authenticated {userId}; before it every event answers UNAUTHORIZED", async () => {
    const { a, aToken, conversationId } = await directPair(server.base);
    const s = await connected(socket(undefined));
    try {
      for (const [event, payload] of [
        ["chat:join", { conversationId }],
        ["chat:send", { tempId: "t-early", conversationId, text: "too early" }],
        ["chat:read", { conversationId, upToMessageId: conversationId }],
        ["join_conversation", conversationId],
        ["send_message", { conversationId, message: "too early" }],
      ]) {
        const ack = await emitAck(s, event, payload);
        assert.equal(ack.success, false, event);
        assert.equal(ack.error_code, "UNAUTHORIZED", event);
      }
      const early = waitFor(s, "message_error");
      s.emit("join_conversation", conversationId);
      assert.equal((await early).error_code, "UNAUTHORIZED");

      const hello = waitFor(s, "authenticated");
      const ack = await emitAck(s, "authenticate", { token: aToken });
      assert.deepEqual(ack, { success: true, userId: a });
      assert.deepEqual(await hello, { userId: a });
      assert.deepEqual(await emitAck(s, "chat:join", { conversationId }), { success: true, conversationId });
    } finally {
      s.close();
    }
  });

  test(
    "chat:* events sent before authenticate, without a callback, answer chat:error UNAUTHORIZED",
    async () => {
      const { conversationId } = await directPair(server.base);
      const s = await connected(socket(undefined));
      try {
        const refused = waitFor(s, "chat:error", () => true, 3000);
        s.emit("chat:send", { tempId: "t-early", conversationId, text: "too early" });
        const err = await refused;
        assert.equal(err.error_code, "UNAUTHORIZED");
        assert.equal(err.tempId, "t-early");
        assert.equal(typeof err.message, "string");
      } finally {
        s.close();
      }
    },
  );

  test("a bad token, expired, signed with another secret or a refresh token, gets auth_error and a disconnect", async () => {
    const id = uid("user");
    const hour = Math.floor(Date.now() / 1000) + 3600;
    const bad = [
      "nonsense",
      sign({ id, role: "influencer", exp: 1 }),
      sign({ id, role: "influencer", exp: hour }, "another-secret"),
      token(id, "influencer", { type: "refresh" }),
    ];
    for (const value of [...bad, undefined]) {
      const s = await connected(socket(undefined));
      const closed = new Promise((resolve) => s.once("disconnect", resolve));
      const refused = waitFor(s, "auth_error");
      s.emit("authenticate", value === undefined ? {} : { token: value });
      const err = await refused;
      assert.equal(typeof err.message, "string", JSON.stringify(err));
      assert.ok(err.message.length > 0);
      assert.equal(await closed, "io server disconnect");
      assert.equal(s.connected, false);
    }
  });

  test("a refresh token in the handshake is refused as everywhere", async () => {
    const s = socket(token(uid("user"), "influencer", { type: "refresh" }));
    try {
      const err = await new Promise((resolve) => s.once("connect_error", resolve));
      assert.equal(err.message, "unauthorized");
      assert.equal(s.connected, false);
    } finally {
      s.close();
    }
  });

  test("a socket that does not authenticate in time gets auth_error and a disconnect; one that did stays", async () => {
    const { a, aToken, conversationId } = await directPair(server.base);
    const quick = await connected(socket(undefined));
    const slow = await connected(socket(undefined));
    const slowSince = Date.now();
    try {
      assert.deepEqual(await emitAck(quick, "authenticate", { token: aToken }), { success: true, userId: a });
      const closed = new Promise((resolve) => slow.once("disconnect", resolve));
      const err = await waitFor(slow, "auth_error", () => true, AUTH_TIMEOUT_MS + 5000);
      assert.match(err.message, /timed out/);
      assert.equal(await closed, "io server disconnect");
      assert.ok(Date.now() - slowSince >= AUTH_TIMEOUT_MS - 50, "refused before the timeout");
      // The authenticated socket's deadline passed first; it is still served.
      assert.equal(quick.connected, true);
      assert.deepEqual(await emitAck(quick, "chat:join", { conversationId }), { success: true, conversationId });
    } finally {
      quick.close();
      slow.close();
    }
  });

  test("a socket already authenticated as one user cannot authenticate as another", async () => {
    const { a, aToken, bToken } = await directPair(server.base);
    const s = await authenticated(aToken);
    try {
      const ack = await emitAck(s, "authenticate", { token: bToken });
      assert.equal(ack.error_code, "FORBIDDEN");
      assert.deepEqual(await emitAck(s, "authenticate", { token: aToken }), { success: true, userId: a });
    } finally {
      s.close();
    }
  });
});

describe("joining", () => {
  test("chat:join is refused to outsiders and unknown conversations, allowed to participants and admins", async () => {
    const { aToken, bToken, conversationId } = await directPair(server.base);
    const outsider = await connected(socket(token(uid("stranger"), "influencer")));
    const admin = await connected(socket(token(uid("admin"), "admin")));
    const alice = await connected(socket(aToken));
    const bob = await authenticated(bToken, ["polling"]);
    try {
      const forbidden = waitFor(outsider, "chat:error");
      outsider.emit("chat:join", { conversationId });
      assert.equal((await forbidden).error_code, "FORBIDDEN");
      const unknown = waitFor(outsider, "chat:error");
      outsider.emit("chat:join", { conversationId: "0190a1b2-0000-7000-8000-000000000000" });
      assert.equal((await unknown).error_code, "NOT_FOUND");
      const viaAck = await emitAck(outsider, "chat:join", { conversationId });
      assert.equal(viaAck.error_code, "FORBIDDEN");

      for (const s of [admin, alice, bob]) {
        const ok = waitFor(s, "chat:joined");
        s.emit("chat:join", { conversationId });
        assert.deepEqual(await ok, { conversationId });
      }
      // Joining again is harmless; the bare id does as well.
      assert.deepEqual(await emitAck(alice, "chat:join", { conversationId }), { success: true, conversationId });
      assert.deepEqual(await emitAck(alice, "chat:join", conversationId), { success: true, conversationId });

      // The outsider hears nothing of the conversation; the others do.
      const heard = record(outsider, "chat:new");
      const toAdmin = waitFor(admin, "chat:new");
      const toBob = waitFor(bob, "chat:new");
      const ack = await emitAck(alice, "chat:send", { tempId: "t1", conversationId, text: "joined" });
      assert.equal((await toAdmin).message.id, ack.message.id);
      assert.equal((await toBob).message.id, ack.message.id);
      assert.deepEqual(heard, []);
    } finally {
      for (const s of [outsider, admin, alice, bob]) s.close();
    }
  });

  test("chat:leave: no more chat:new for that conversation", async () => {
    const { aToken, bToken, conversationId } = await directPair(server.base);
    const alice = await connected(socket(aToken));
    const bob = await joined(bToken, conversationId);
    try {
      assert.deepEqual(await emitAck(bob, "chat:leave", { conversationId }), { success: true });
      const heard = record(bob, "chat:new");
      // The conversation's row still changes on Bob's list, after any chat:new would have come.
      const row = waitFor(bob, "conversations:upsert", (u) => u.last_message?.message === "after bob left");
      await emitAck(alice, "send_message", { conversationId, message: "after bob left" });
      await row;
      assert.deepEqual(heard, []);
    } finally {
      alice.close();
      bob.close();
    }
  });
});

describe("sending", () => {
  test("chat:send answers chat:ack {tempId, message}; failures are chat:error {message, tempId, error_code}", async () => {
    const { a, b, aToken, conversationId } = await directPair(server.base);
    const alice = await joined(aToken, conversationId);
    try {
      const acked = waitFor(alice, "chat:ack");
      alice.emit("chat:send", { tempId: "t-1", conversationId, text: "Hello from the app" });
      const ack = await acked;
      assert.equal(ack.tempId, "t-1");
      assert.equal(ack.message.message, "Hello from the app");
      assert.equal(ack.message.sender_id, a);
      assert.equal(ack.message.receiver_id, b);
      assert.equal(ack.message.message_type, "user_input");
      assert.equal(ack.message.client_message_id, "t-1");
      const stored = await history(aToken, conversationId);
      assert.deepEqual(stored.at(-1), ack.message);

      const numeric = await emitAck(alice, "chat:send", { tempId: 42, conversationId, text: "numbered" });
      assert.equal(numeric.success, true);
      assert.equal(numeric.tempId, 42);
      assert.equal(numeric.message.client_message_id, "42");

      for (const [payload, code] of [
        [{ tempId: "t-2", conversationId, text: "" }, "VALIDATION_FAILED"],
        [{ tempId: "t-3", conversationId, text: "spoof", senderId: b }, "FORBIDDEN"],
        [{ tempId: "t-4", conversationId: "0190a1b2-0000-7000-8000-000000000000", text: "nowhere" }, "NOT_FOUND"],
      ]) {
        const failed = waitFor(alice, "chat:error");
        alice.emit("chat:send", payload);
        const err = await failed;
        assert.deepEqual(Object.keys(err).sort(), ["error_code", "message", "tempId"]);
        assert.equal(err.tempId, payload.tempId);
        assert.equal(err.error_code, code, JSON.stringify(err));
        assert.equal(typeof err.message, "string");
      }
      const viaAck = await emitAck(alice, "chat:send", { tempId: "t-5", conversationId, text: "" });
      assert.equal(viaAck.success, false);
      assert.equal(viaAck.error_code, "VALIDATION_FAILED");
    } finally {
      alice.close();
    }
  });

  test("a repeated clientNonce (or tempId without one) returns the same message and emits nothing new", async () => {
    const { aToken, bToken, conversationId } = await directPair(server.base);
    const alice = await joined(aToken, conversationId);
    const bob = await joined(bToken, conversationId, ["polling"]);
    const current = await connected(socket(bToken));
    try {
      await emitAck(current, "join_conversation", conversationId);
      const legacyHeard = record(bob, "chat:new");
      const currentHeard = record(current, "new_message");

      const first = await emitAck(alice, "chat:send", { tempId: "t-1", clientNonce: "nonce-1", conversationId, text: "once" });
      const isFirst = (d) => d.message.id === first.message.id;
      await heardOrWait(legacyHeard, bob, "chat:new", isFirst);
      await heardOrWait(currentHeard, current, "new_message", isFirst);
      assert.equal(first.message.client_message_id, "nonce-1");

      const acked = waitFor(alice, "chat:ack", (d) => d.tempId === "t-2");
      const again = await emitAck(alice, "chat:send", { tempId: "t-2", clientNonce: "nonce-1", conversationId, text: "once" });
      assert.equal(again.message.id, first.message.id);
      assert.deepEqual((await acked).message, first.message);

      const byTemp = await emitAck(alice, "chat:send", { tempId: "t-3", conversationId, text: "no nonce" });
      await heardOrWait(legacyHeard, bob, "chat:new", (d) => d.message.id === byTemp.message.id);
      const byTempAgain = await emitAck(alice, "chat:send", { tempId: "t-3", conversationId, text: "no nonce" });
      assert.equal(byTempAgain.message.id, byTemp.message.id);

      const marker = await emitAck(alice, "chat:send", { tempId: "t-4", conversationId, text: "marker" });
      const isMarker = (d) => d.message.id === marker.message.id;
      await heardOrWait(legacyHeard, bob, "chat:new", isMarker);
      await heardOrWait(currentHeard, current, "new_message", isMarker);
      const expected = [first.message.id, byTemp.message.id, marker.message.id];
      assert.deepEqual(legacyHeard.map((d) => d.message.id), expected);
      assert.deepEqual(currentHeard.map((d) => d.message.id), expected);
      assert.equal((await history(bToken, conversationId)).length, 3);
    } finally {
      for (const s of [alice, bob, current]) s.close();
    }
  });

  test("chat:new reaches a joined socket for every message, whoever sent it and however", async () => {
    const { aToken, bToken, conversationId } = await directPair(server.base);
    const bob = await joined(bToken, conversationId);
    const aliceLegacy = await joined(aToken, conversationId, ["polling"]);
    const aliceCurrent = await connected(socket(aToken));
    try {
      const heard = record(bob, "chat:new");
      const own = record(aliceLegacy, "chat:new");
      const sent = [];
      sent.push((await emitAck(aliceLegacy, "chat:send", { tempId: "t", conversationId, text: "old protocol" })).message);
      sent.push((await emitAck(aliceCurrent, "send_message", { conversationId, message: "current protocol" })).message);
      const rest = await api(server.base, "POST", "/api/messages/send", aToken, { conversation_id: conversationId, message: "over REST" });
      assert.equal(rest.status, 201);
      sent.push(rest.body.message);
      sent.push((await emitAck(bob, "chat:send", { tempId: "t", conversationId, text: "bob answers" })).message);
      const isLast = (d) => d.message.id === sent.at(-1).id;
      await heardOrWait(heard, bob, "chat:new", isLast);
      await heardOrWait(own, aliceLegacy, "chat:new", isLast);
      assert.deepEqual(heard, sent.map((message) => ({ message })));
      assert.deepEqual(own, sent.map((message) => ({ message })));
    } finally {
      for (const s of [bob, aliceLegacy, aliceCurrent]) s.close();
    }
  });

  test("chat:new carries flow cards and notices, and never the other party's audit messages", async () => {
    const { brand, creator, brandToken, creatorToken, conversationId } = await bidConversation();
    const brandApp = await joined(brandToken, conversationId);
    const creatorApp = await joined(creatorToken, conversationId, ["polling"]);
    try {
      const brandHeard = record(brandApp, "chat:new");
      const creatorHeard = record(creatorApp, "chat:new");
      const seenBefore = {
        brand: new Set((await history(brandToken, conversationId)).map((m) => m.id)),
        creator: new Set((await history(creatorToken, conversationId)).map((m) => m.id)),
      };
      const [respond] = (await history(creatorToken, conversationId)).filter((m) => m.action_data?.flow_state === "influencer_responding");
      assert.ok(respond, "the creator was asked to respond");

      const detailsCard = waitFor(brandApp, "chat:new", isCardIn("brand_owner_details"));
      await press(creatorToken, conversationId, respond, "accept_connection");
      const details = (await detailsCard).message;
      const reviewCard = waitFor(creatorApp, "chat:new", isCardIn("influencer_reviewing"));
      const submitted = await api(server.base, "POST", `/api/messages/conversations/${conversationId}/button-click`, brandToken, {
        button_id: details.action_data.submit_action,
        additional_data: { details: "Two reels, due in a week" },
      });
      assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
      const review = (await reviewCard).message;
      // The closed conversation's row comes after the last chat:new of the action.
      const closed = (u) => u.conversation_id === conversationId && u.flow_state === "chat_closed";
      const brandDone = waitFor(brandApp, "conversations:upsert", closed);
      const creatorDone = waitFor(creatorApp, "conversations:upsert", closed);
      await press(creatorToken, conversationId, review, "reject_project");
      await brandDone;
      await creatorDone;
      const notice = brandHeard.find(({ message: m }) => m.message_type === "system");
      assert.ok(notice, "the brand heard the notice");
      assert.match(notice.message.message, /declined the project/);

      for (const [side, heard, tokenValue] of [["brand", brandHeard, brandToken], ["creator", creatorHeard, creatorToken]]) {
        const expected = (await history(tokenValue, conversationId)).filter((m) => !seenBefore[side].has(m.id));
        assert.deepEqual(
          heard.map((d) => d.message.id),
          expected.map((m) => m.id),
          `${side} hears exactly the messages it may see`,
        );
        const mine = side === "brand" ? brand : creator;
        assert.ok(heard.every(({ message: m }) => m.message_type !== "audit" || m.receiver_id === mine), `${side} heard another's audit`);
        assert.ok(heard.some(({ message: m }) => m.message_type === "audit"), `${side} heard none of its own audits`);
      }
      assert.ok(brandHeard.some(({ message: m }) => m.action_required && m.message_type === "automated"), "flow cards included");
    } finally {
      brandApp.close();
      creatorApp.close();
    }
  });
});

describe("reading", () => {
  test("chat:read marks messages seen and broadcasts chat:read {conversation_id, messageIds, upToMessageId, readerId, readAt}", async () => {
    const { b, aToken, bToken, conversationId } = await directPair(server.base);
    const alice = await joined(aToken, conversationId);
    const bob = await joined(bToken, conversationId, ["polling"]);
    const current = await connected(socket(aToken));
    // Alice's phone, on her conversation list: it hears the receipt too, as message_seen goes to her user room.
    const aliceList = await authenticated(aToken, ["polling"]);
    try {
      await emitAck(current, "join_conversation", conversationId);
      const m1 = (await emitAck(alice, "chat:send", { tempId: "1", conversationId, text: "one" })).message;
      const m2 = (await emitAck(alice, "chat:send", { tempId: "2", conversationId, text: "two" })).message;
      const m3 = (await emitAck(alice, "chat:send", { tempId: "3", conversationId, text: "three" })).message;

      const receipt = waitFor(alice, "chat:read");
      const bobsReceipt = waitFor(bob, "chat:read");
      const listReceipt = waitFor(aliceList, "chat:read");
      const seen = waitFor(current, "message_seen");
      const ack = await emitAck(bob, "chat:read", { conversationId, upToMessageId: m2.id });
      assert.equal(ack.success, true);
      assert.equal(ack.seen_count, 2);
      const read = await receipt;
      assert.deepEqual(Object.keys(read).sort(), ["conversation_id", "messageIds", "readAt", "readerId", "upToMessageId"]);
      assert.equal(read.conversation_id, conversationId);
      assert.deepEqual(read.messageIds, [m1.id, m2.id]);
      assert.equal(read.upToMessageId, m2.id);
      assert.equal(read.readerId, b);
      assert.ok(!Number.isNaN(Date.parse(read.readAt)) && read.readAt.endsWith("Z"), read.readAt);
      assert.deepEqual(await bobsReceipt, read);
      assert.deepEqual(await listReceipt, read);
      const currentSeen = await seen;
      assert.equal(currentSeen.messageId, m2.id);
      assert.equal(currentSeen.seen_at, read.readAt);

      const stored = await history(bToken, conversationId);
      assert.deepEqual(stored.map((m) => [m.id, m.seen, m.seen_at]), [
        [m1.id, true, read.readAt],
        [m2.id, true, read.readAt],
        [m3.id, false, null],
      ]);

      const rest = waitFor(alice, "chat:read");
      bob.emit("chat:read", { conversationId, upToMessageId: m3.id });
      assert.deepEqual((await rest).messageIds, [m3.id]);

      const bad = waitFor(bob, "chat:error");
      bob.emit("chat:read", { conversationId, upToMessageId: "0190a1b2-0000-7000-8000-000000000000" });
      assert.equal((await bad).error_code, "NOT_FOUND");
    } finally {
      for (const s of [alice, bob, current, aliceList]) s.close();
    }
  });
});

describe("conversation rows and notifications", () => {
  /** The conversation as the user's REST list shows it, in the upsert's shape. */
  async function listed(tokenValue, conversationId) {
    const res = await api(server.base, "GET", "/api/messages/conversations?limit=100", tokenValue);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const row = res.body.conversations.find((c) => c.id === conversationId);
    assert.ok(row, "listed");
    return row;
  }

  function assertMatchesList(upsert, row) {
    assert.deepEqual(Object.keys(upsert).sort(), [
      "awaiting_role",
      "chat_status",
      "conversation_id",
      "created_at",
      "flow_state",
      "last_message",
      "other_user",
      "unread_count",
      "updated_at",
    ]);
    assert.equal(upsert.conversation_id, row.id);
    for (const field of ["created_at", "chat_status", "flow_state", "awaiting_role", "unread_count", "other_user", "last_message"]) {
      assert.deepEqual(upsert[field], row[field], field);
    }
  }

  test("conversations:upsert after a send and after a read: last message, unread count, the other user", async () => {
    const { a, b, aToken, bToken, conversationId } = await directPair(server.base);
    const alice = await joined(aToken, conversationId);
    // Bob's app is open on his conversation list: authenticated, in no conversation.
    const bob = await authenticated(bToken, ["polling"]);
    try {
      const toBob = waitFor(bob, "conversations:upsert", (u) => u.last_message?.message === "first");
      const toAlice = waitFor(alice, "conversations:upsert", (u) => u.last_message?.message === "first");
      const sent = (await emitAck(alice, "chat:send", { tempId: "1", conversationId, text: "first" })).message;
      const bobRow = await toBob;
      assert.equal(bobRow.conversation_id, conversationId);
      assert.equal(bobRow.unread_count, 1);
      assert.equal(bobRow.last_message.id, sent.id);
      assert.equal(bobRow.other_user.id, a);
      assert.equal(bobRow.chat_status, "real_time");
      assertMatchesList(bobRow, await listed(bToken, conversationId));
      const aliceRow = await toAlice;
      assert.equal(aliceRow.unread_count, 0);
      assert.equal(aliceRow.other_user.id, b);
      assertMatchesList(aliceRow, await listed(aToken, conversationId));
      assert.ok(Date.parse(bobRow.updated_at) >= Date.parse(sent.created_at));

      const second = waitFor(bob, "conversations:upsert", (u) => u.last_message?.message === "second");
      await api(server.base, "POST", "/api/messages/send", aToken, { conversation_id: conversationId, message: "second" });
      assert.equal((await second).unread_count, 2);

      const cleared = waitFor(bob, "conversations:upsert", (u) => u.unread_count === 0);
      await emitAck(bob, "chat:read", { conversationId, upToMessageId: (await second).last_message.id });
      assertMatchesList(await cleared, await listed(bToken, conversationId));
    } finally {
      alice.close();
      bob.close();
    }
  });

  test("conversations:upsert after a flow action carries the new state to both sides", async () => {
    const { brand, creator, brandToken, creatorToken, conversationId } = await bidConversation();
    const brandApp = await authenticated(brandToken);
    const creatorApp = await authenticated(creatorToken, ["polling"]);
    try {
      const [respond] = (await history(creatorToken, conversationId)).filter((m) => m.action_data?.flow_state === "influencer_responding");
      const moved = (u) => u.conversation_id === conversationId && u.flow_state === "brand_owner_details";
      const toBrand = waitFor(brandApp, "conversations:upsert", moved);
      const toCreator = waitFor(creatorApp, "conversations:upsert", moved);
      await press(creatorToken, conversationId, respond, "accept_connection");

      const brandRow = await toBrand;
      assert.equal(brandRow.awaiting_role, "brand_owner");
      assert.equal(brandRow.other_user.id, creator);
      assert.equal(brandRow.last_message.action_data.flow_state, "brand_owner_details");
      assertMatchesList(brandRow, await listed(brandToken, conversationId));
      const creatorRow = await toCreator;
      assert.equal(creatorRow.other_user.id, brand);
      assertMatchesList(creatorRow, await listed(creatorToken, conversationId));
      assert.ok(brandRow.unread_count >= 1, "the brand has a card to read");
    } finally {
      brandApp.close();
      creatorApp.close();
    }
  });

  test("a burst of messages: each conversations:upsert is at least as new as the one before", async () => {
    const { aToken, bToken, conversationId } = await directPair(server.base);
    const alice = await joined(aToken, conversationId);
    const bob = await authenticated(bToken, ["polling"]);
    try {
      const rows = record(bob, "conversations:upsert");
      const burst = 25;
      const last = waitFor(bob, "conversations:upsert", (u) => u.unread_count === burst, 30000);
      const acks = [];
      for (let i = 1; i <= burst; i++) acks.push(emitAck(alice, "chat:send", { tempId: `b${i}`, conversationId, text: `burst ${i}` }));
      const sent = await Promise.all(acks);
      assert.ok(sent.every((a) => a.success), JSON.stringify(sent.find((a) => !a.success)));
      await last;
      // A round trip after the last upsert: Bob's own send, whose rows come later.
      const after = waitFor(bob, "conversations:upsert", (u) => u.last_message?.message === "bob replies");
      await emitAck(bob, "chat:send", { tempId: "r", conversationId, text: "bob replies" });
      await after;
      const counts = rows.map((u) => u.unread_count);
      assert.deepEqual(counts, [...counts].sort((x, y) => x - y), `unread counts went back: ${counts}`);
      const newest = sent.map((a) => a.message.id).sort().at(-1);
      const lastBefore = rows.filter((u) => u.last_message.message !== "bob replies").at(-1);
      assert.equal(lastBefore.last_message.id, newest);
    } finally {
      alice.close();
      bob.close();
    }
  });

  test("a socket that turns to the old protocol hears only its events, in the conversations it had joined", async () => {
    const { aToken, bToken, conversationId } = await directPair(server.base);
    const alice = await connected(socket(aToken));
    const bob = await connected(socket(bToken));
    try {
      assert.equal((await emitAck(bob, "join_conversation", conversationId)).success, true);
      const current = [];
      for (const name of ["new_message", "notification", "unread_count_updated", "message_seen", "presence_diff"]) {
        bob.on(name, (data) => current.push({ name, data }));
      }
      await emitAck(bob, "authenticate", { token: bToken });
      const heard = waitFor(bob, "chat:new", (d) => d.message.message === "still heard");
      const row = waitFor(bob, "conversations:upsert", (u) => u.last_message?.message === "still heard");
      await emitAck(alice, "send_message", { conversationId, message: "still heard" });
      await heard;
      await row;
      assert.deepEqual(current, []);
    } finally {
      alice.close();
      bob.close();
    }
  });

  test("notification:new {notification}; an old-protocol socket hears the old protocol's events only", async () => {
    const { a, aToken, bToken, conversationId } = await directPair(server.base);
    const bob = await authenticated(bToken);
    const alice = await connected(socket(aToken));
    try {
      const current = [];
      for (const name of ["new_message", "notification", "unread_count_updated", "conversation_state_changed", "message_seen"]) {
        bob.on(name, (data) => current.push({ name, data }));
      }
      const notified = waitFor(bob, "notification:new");
      const upsert = waitFor(bob, "conversations:upsert");
      const sent = (await emitAck(alice, "send_message", { conversationId, message: "ping" })).message;
      const { notification } = await notified;
      assert.equal(notification.type, "new_message");
      assert.equal(notification.data.conversation_id, conversationId);
      assert.equal(notification.data.sender_id, a);
      assert.equal(notification.data.message.id, sent.id);
      await upsert;
      assert.deepEqual(current, []);
    } finally {
      alice.close();
      bob.close();
    }
  });
});

test("a REST send, a chat:send and a send_message store identical rows and emit identical events", async () => {
  const { aToken, bToken, conversationId } = await directPair(server.base);
  const aliceLegacy = await joined(aToken, conversationId);
  const aliceCurrent = await connected(socket(aToken));
  const bobCurrent = await connected(socket(bToken, ["polling"]));
  try {
    await emitAck(aliceCurrent, "join_conversation", conversationId);
    const bobArrived = waitFor(aliceCurrent, "presence_diff");
    await emitAck(bobCurrent, "join_conversation", conversationId);
    await bobArrived;
    const heard = { alice: [], bob: [] };
    aliceCurrent.onAny((name, data) => heard.alice.push({ name, data }));
    bobCurrent.onAny((name, data) => heard.bob.push({ name, data }));

    const text = "Same words, three ways";
    const mediaUrl = "https://cdn.example.com/brief.png";
    const senders = [
      async () => {
        const res = await api(server.base, "POST", "/api/messages/send", aToken, {
          conversation_id: conversationId,
          message: text,
          media_url: mediaUrl,
          client_message_id: "same-1",
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.message;
      },
      async () => (await emitAck(aliceLegacy, "chat:send", { tempId: "t", clientNonce: "same-2", conversationId, text, mediaUrl })).message,
      async () => (await emitAck(aliceCurrent, "send_message", { conversationId, message: text, mediaUrl, clientMessageId: "same-3" })).message,
    ];
    const answers = [];
    const windows = [];
    for (const [i, send] of senders.entries()) {
      const from = { alice: heard.alice.length, bob: heard.bob.length };
      const unread = waitFor(bobCurrent, "unread_count_updated", (u) => u.conversation_id === conversationId && u.unread_count === 1);
      const echoed = waitFor(aliceCurrent, "new_message", (d) => d.message.client_message_id === `same-${i + 1}`);
      answers.push(await send());
      await unread;
      await echoed;
      // Bob reads it, so the next send starts from the same unread count;
      // his read receipt (message_seen, to both) ends this send's events.
      const read = waitFor(bobCurrent, "unread_count_updated", (u) => u.conversation_id === conversationId && u.unread_count === 0);
      const receipt = waitFor(aliceCurrent, "message_seen");
      assert.equal((await api(server.base, "POST", `/api/messages/conversations/${conversationId}/seen`, bToken)).status, 200);
      await read;
      await receipt;
      const upToReceipt = (events) => events.slice(0, events.findIndex((e) => e.name === "message_seen"));
      windows.push({ alice: upToReceipt(heard.alice.slice(from.alice)), bob: upToReceipt(heard.bob.slice(from.bob)) });
    }

    const aside = (m) => {
      const { id, created_at, client_message_id, ...rest } = m;
      assert.ok(id && created_at && client_message_id);
      return rest;
    };
    const stored = await history(bToken, conversationId);
    assert.equal(stored.length, 3);
    assert.deepEqual(stored.map((m) => m.client_message_id), ["same-1", "same-2", "same-3"]);
    const { seen_at: _s0, ...first } = aside(stored[0]);
    for (const row of stored.slice(1)) {
      const { seen_at: _s, ...rest } = aside(row);
      assert.deepEqual(rest, first);
    }
    assert.equal(first.media_url, mediaUrl);
    assert.equal(first.message, text);
    for (const answer of answers.slice(1)) assert.deepEqual(aside(answer), aside(answers[0]));
    assert.deepEqual(answers.map((m) => m.id), stored.map((m) => m.id));

    // The same events, in the same order, to each current-protocol listener:
    // ids (the message's, its notification's) and times aside.
    const normal = (value) => {
      if (Array.isArray(value)) return value.map(normal);
      if (value === null || typeof value !== "object") return value;
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, k === "id" || k === "client_message_id" || k.endsWith("_at") ? typeof v : normal(v)]),
      );
    };
    for (const who of ["alice", "bob"]) {
      const shaped = windows.map((w) => normal(w[who]));
      assert.ok(shaped[0].some((e) => e.name === "new_message"), `${who} heard the message`);
      assert.deepEqual(shaped[1], shaped[0], `${who}: chat:send and REST differ`);
      assert.deepEqual(shaped[2], shaped[0], `${who}: send_message and REST differ`);
    }
  } finally {
    for (const s of [aliceLegacy, aliceCurrent, bobCurrent]) s.close();
  }
});
