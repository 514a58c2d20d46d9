// Contract section 13 from the official socket.io-client: reporting a message
// with `flag_message`, and what a ban does to a user's sockets, new
// connections and REST calls, over WebSocket and HTTP long-polling.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startServer, token, uid, api, waitFor, record, emitAck, directPair } from "./harness.mjs";

const TRANSPORTS = ["websocket", "polling"];

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

function open(tokenValue, transport) {
  return io(server.base, { auth: { token: tokenValue }, transports: [transport], reconnection: false, forceNew: true });
}

async function connect(tokenValue, transport = "websocket") {
  const socket = open(tokenValue, transport);
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

/** Resolves with the connect_error of a connection the server must refuse. */
async function refused(tokenValue, transport) {
  const socket = open(tokenValue, transport);
  try {
    return await new Promise((resolve, reject) => {
      socket.once("connect", () => reject(new Error(`connected over ${transport}, expected a refusal`)));
      socket.once("connect_error", resolve);
    });
  } finally {
    socket.close();
  }
}

/** The failure envelope of section 4, as an ack carries it. */
function assertFailure(ack, code) {
  assert.equal(ack.success, false, JSON.stringify(ack));
  assert.equal(ack.error_code, code, JSON.stringify(ack));
  assert.equal(typeof ack.message, "string", JSON.stringify(ack));
  assert.ok(ack.details && typeof ack.details === "object", JSON.stringify(ack));
}

function assertRestFailure(res, status, code) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assertFailure(res.body, code);
}

function adminToken() {
  return token(uid("admin"), "admin");
}

/** Alice and Bob in a direct conversation holding one message from Alice. */
async function pairWithMessage() {
  const p = await directPair(server.base, ["alice", "bob"]);
  const sent = await api(server.base, "POST", "/api/messages/send", p.aToken, { conversation_id: p.conversationId, message: "you are useless" });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  return { ...p, messageId: sent.body.message.id };
}

async function openFlagsOn(targetId) {
  const res = await api(server.base, "GET", "/api/admin/flags?status=open&limit=100", adminToken());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.flags.filter((f) => f.target?.message?.id === targetId);
}

for (const transport of TRANSPORTS) {
  test(`flag_message over ${transport}: one open flag per reporter, participants only, bad input answered`, async () => {
    const p = await pairWithMessage();
    const bob = await connect(p.bToken, transport);
    const outsider = await connect(token(uid("outsider"), "influencer"), transport);
    try {
      const first = await emitAck(bob, "flag_message", { messageId: p.messageId, reason: "abuse", note: "insults" });
      assert.equal(first.success, true, JSON.stringify(first));
      assert.equal(first.created, true);
      assert.equal(first.flag.status, "open");
      assert.equal(first.flag.reason, "abuse");
      assert.equal(first.flag.note, "insults");
      assert.equal(first.flag.target_type, "message");
      assert.equal(first.flag.target_id, p.messageId);
      assert.equal(first.flag.reporter, p.b);
      assert.equal(first.flag.target_user_id, p.a);
      assert.ok(!Number.isNaN(Date.parse(first.flag.created_at)), first.flag.created_at);

      // A repeat, even with another reason, answers the open flag unchanged.
      const again = await emitAck(bob, "flag_message", { messageId: p.messageId, reason: "spam" });
      assert.equal(again.success, true, JSON.stringify(again));
      assert.equal(again.created, false);
      assert.deepEqual(again.flag, first.flag);
      const rest = await api(server.base, "POST", `/api/messages/${p.messageId}/flag`, p.bToken, { reason: "fraud" });
      assert.equal(rest.status, 200, "the REST route sees the same open flag");
      assert.equal(rest.body.flag.id, first.flag.id);
      const queued = await openFlagsOn(p.messageId);
      assert.equal(queued.length, 1, JSON.stringify(queued));
      assert.equal(queued[0].id, first.flag.id);
      assert.equal(queued[0].reporter.id, p.b);

      // Someone outside the conversation may not report its messages.
      assertFailure(await emitAck(outsider, "flag_message", { messageId: p.messageId, reason: "abuse" }), "FORBIDDEN");
      assertFailure(
        await emitAck(bob, "flag_message", { messageId: "01938a6e-0000-7000-8000-000000000000", reason: "abuse" }),
        "NOT_FOUND",
      );

      // Bad input gets the envelope, names the field, and never closes the socket.
      const noId = await emitAck(bob, "flag_message", { reason: "abuse" });
      assertFailure(noId, "VALIDATION_FAILED");
      assert.equal(noId.details.messageId, "is required", JSON.stringify(noId));
      const badReason = await emitAck(bob, "flag_message", { messageId: p.messageId, reason: "boring" });
      assertFailure(badReason, "VALIDATION_FAILED");
      assert.ok("reason" in badReason.details, JSON.stringify(badReason));
      const noReason = await emitAck(bob, "flag_message", { messageId: p.messageId });
      assertFailure(noReason, "VALIDATION_FAILED");
      assert.ok("reason" in noReason.details, JSON.stringify(noReason));
      const longNote = await emitAck(bob, "flag_message", { messageId: p.messageId, reason: "other", note: "x".repeat(1001) });
      assertFailure(longNote, "VALIDATION_FAILED");
      assert.ok("note" in longNote.details, JSON.stringify(longNote));
      assertFailure(await emitAck(bob, "flag_message", "not an object"), "VALIDATION_FAILED");

      // Without a callback the failure comes as message_error.
      const told = waitFor(bob, "message_error");
      bob.emit("flag_message", { messageId: p.messageId, reason: "boring" });
      const error = await told;
      assert.equal(error.error_code, "VALIDATION_FAILED", JSON.stringify(error));
      assert.equal(typeof error.error, "string");
      assert.ok("reason" in error.details, JSON.stringify(error));

      assert.equal(bob.connected, true);
      const note = await emitAck(bob, "flag_message", { messageId: p.messageId, reason: "abuse", note: "x".repeat(1000) });
      assert.equal(note.success, true, "a note of 1000 characters is accepted");
      assert.equal(note.flag.id, first.flag.id);
      assert.equal((await openFlagsOn(p.messageId)).length, 1);
    } finally {
      bob.close();
      outsider.close();
    }
  });
}

/** Resolves with every event `socket` heard, in order, once the server disconnects it. */
function untilDisconnected(socket, ms = 10000) {
  const heard = [];
  socket.onAny((event, payload) => heard.push({ event, payload }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not disconnected; heard ${JSON.stringify(heard)}`)), ms);
    socket.once("disconnect", (reason) => {
      clearTimeout(timer);
      resolve({ reason, heard });
    });
  });
}

test("a ban sends `banned` to every open socket, closes them, then refuses sockets and REST until unbanned", async () => {
  const p = await pairWithMessage();
  const admin = adminToken();
  const aliceWs = await connect(p.aToken, "websocket");
  const alicePolling = await connect(p.aToken, "polling");
  const bob = await connect(p.bToken, "websocket");
  const bobTold = record(bob, "banned");
  try {
    const closed = [untilDisconnected(aliceWs), untilDisconnected(alicePolling)];
    const until = new Date(Date.now() + 2 * 3600 * 1000).toISOString();
    const res = await api(server.base, "POST", `/api/admin/users/${p.a}/ban`, admin, { reason: "spam", until });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.success, true);

    for (const [transport, done] of TRANSPORTS.map((t, i) => [t, closed[i]])) {
      const { reason, heard } = await done;
      assert.equal(reason, "io server disconnect", `${transport}: the server closes the socket`);
      const bans = heard.filter((h) => h.event === "banned");
      assert.equal(bans.length, 1, `${transport}: one banned event: ${JSON.stringify(heard)}`);
      assert.equal(heard.at(-1).event, "banned", `${transport}: banned comes last, before the close`);
      assert.deepEqual(Object.keys(bans[0].payload).sort(), ["reason", "until"]);
      assert.equal(bans[0].payload.reason, "spam");
      assert.equal(Date.parse(bans[0].payload.until), Date.parse(until), JSON.stringify(bans[0].payload));
    }

    for (const transport of TRANSPORTS) {
      const error = await refused(p.aToken, transport);
      assert.equal(error.message, "banned", `${transport}: ${error.message}`);
    }
    const unread = await api(server.base, "GET", "/api/messages/unread-count", p.aToken);
    assertRestFailure(unread, 403, "USER_BANNED");
    assert.equal(Date.parse(unread.body.details.until), Date.parse(until), JSON.stringify(unread.body));
    const send = await api(server.base, "POST", "/api/messages/send", p.aToken, { conversation_id: p.conversationId, message: "still here?" });
    assertRestFailure(send, 403, "USER_BANNED");

    // The other participant is untouched.
    assert.equal(bob.connected, true);
    const join = await emitAck(bob, "join_conversation", p.conversationId);
    assert.equal(join.success, true, JSON.stringify(join));
    assert.deepEqual(bobTold, []);

    const lifted = await api(server.base, "POST", `/api/admin/users/${p.a}/unban`, admin, {});
    assert.equal(lifted.status, 200, JSON.stringify(lifted.body));
    assert.equal(lifted.body.banned, false);
    assert.equal((await api(server.base, "GET", "/api/messages/unread-count", p.aToken)).status, 200);
    for (const transport of TRANSPORTS) {
      const socket = await connect(p.aToken, transport);
      try {
        const heard = waitFor(bob, "new_message", (e) => e.message.message === `back over ${transport}`);
        const ack = await emitAck(socket, "send_message", { conversationId: p.conversationId, message: `back over ${transport}` });
        assert.equal(ack.success, true, JSON.stringify(ack));
        assert.equal((await heard).message.sender_id, p.a);
      } finally {
        socket.close();
      }
    }
  } finally {
    for (const s of [aliceWs, alicePolling, bob]) s.close();
  }
});

test("banning from the flag queue (ban_user) closes the sender's polling socket with a ban without end", async () => {
  const p = await pairWithMessage();
  const admin = adminToken();
  const bob = await connect(p.bToken, "polling");
  const alice = await connect(p.aToken, "polling");
  try {
    const closed = untilDisconnected(alice);
    const offline = waitFor(bob, "user_offline", (e) => e.userId === p.a);
    const flag = await emitAck(bob, "flag_message", { messageId: p.messageId, reason: "abuse" });
    assert.equal(flag.success, true, JSON.stringify(flag));
    const res = await api(server.base, "POST", `/api/admin/flags/${flag.flag.id}/resolve`, admin, {
      action: "ban_user",
      note: "repeated insults",
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.flag.resolution, "ban_user");

    const { reason, heard } = await closed;
    assert.equal(reason, "io server disconnect");
    const bans = heard.filter((h) => h.event === "banned");
    assert.equal(bans.length, 1, JSON.stringify(heard));
    assert.equal(heard.at(-1).event, "banned", "banned comes last, before the close");
    assert.deepEqual(bans[0].payload, { reason: "repeated insults", until: null }, "the note is the reason; no end");
    // Alice's only socket is gone, so whoever shares a conversation hears she is offline.
    assert.ok(!Number.isNaN(Date.parse((await offline).last_seen)));
    assert.equal((await refused(p.aToken, "polling")).message, "banned");
    const unread = await api(server.base, "GET", "/api/messages/unread-count", p.aToken);
    assertRestFailure(unread, 403, "USER_BANNED");
    assert.equal(unread.body.details.until, null);

    assert.equal((await api(server.base, "POST", `/api/admin/users/${p.a}/unban`, admin, {})).status, 200);
    (await connect(p.aToken, "polling")).close();
  } finally {
    bob.close();
    alice.close();
  }
});

test("only admins ban or unban: other roles get FORBIDDEN and the target stays connected", async () => {
  const p = await pairWithMessage();
  const alice = await connect(p.aToken, "websocket");
  const told = record(alice, "banned");
  try {
    const others = [p.bToken, token(uid("brand"), "brand_owner"), token(uid("member"), "member")];
    for (const caller of others) {
      assertRestFailure(await api(server.base, "POST", `/api/admin/users/${p.a}/ban`, caller, { reason: "spam" }), 403, "FORBIDDEN");
      assertRestFailure(await api(server.base, "POST", `/api/admin/users/${p.a}/unban`, caller, {}), 403, "FORBIDDEN");
    }
    assertRestFailure(await api(server.base, "POST", `/api/admin/users/${p.a}/ban`, undefined, { reason: "spam" }), 401, "UNAUTHORIZED");

    // A round trip after the attempts: a `banned` would have come before it.
    const ack = await emitAck(alice, "join_conversation", p.conversationId);
    assert.equal(ack.success, true, JSON.stringify(ack));
    assert.equal(alice.connected, true);
    assert.deepEqual(told, []);
    assert.equal((await api(server.base, "GET", "/api/messages/unread-count", p.aToken)).status, 200);
    (await connect(p.aToken, "polling")).close();
  } finally {
    alice.close();
  }
});
