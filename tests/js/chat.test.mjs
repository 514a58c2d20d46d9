// The official socket.io-client 4.x, used the way existing frontends use
// the server, over WebSocket and over HTTP long-polling.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startServer, token, api, waitFor, record, emitAck, sign, connected, directPair } from "./harness.mjs";

let server;
before(async () => {
  // A refused 2.x session is closed after the connect timeout (below).
  server = await startServer({ CONNECT_TIMEOUT_MS: "1500" });
});
after(async () => {
  await server?.stop();
});

function connect(tokenValue, transports, extra = {}) {
  return io(server.base, { auth: { token: tokenValue }, transports, reconnection: false, forceNew: true, ...extra });
}



for (const transports of [["websocket"], ["polling"]]) {
  describe(`over ${transports[0]}`, () => {
    test("a socket without a valid token gets connect_error 'unauthorized'", async () => {
      for (const auth of [{}, { token: "nonsense" }, { token: sign({ id: "x", exp: 1 }) }]) {
        const socket = io(server.base, { auth, transports, reconnection: false, forceNew: true });
        const err = await new Promise((resolve) => socket.once("connect_error", resolve));
        assert.equal(err.message, "unauthorized");
        assert.equal(socket.connected, false);
        socket.close();
      }
    });

    test("legacy frontend calls without callbacks: join, join_conversation, send_message, new_message", async () => {
      const { a, b, aToken, bToken, conversationId } = await directPair(server.base);
      const alice = await connected(connect(aToken, transports));
      const bob = await connected(connect(bToken, transports));
      try {
        alice.emit("join", a);
        bob.emit("join", b);
        const aliceIn = waitFor(alice, "presence_state");
        alice.emit("join_conversation", conversationId);
        await aliceIn;
        const bobIn = waitFor(bob, "presence_state");
        const bobJoined = waitFor(alice, "presence_diff", (d) => d.joins[b] !== undefined);
        bob.emit("join_conversation", conversationId);
        assert.ok((await bobIn)[a], "bob sees alice present");
        await bobJoined;

        const arrived = waitFor(bob, "new_message");
        const notified = waitFor(bob, "notification", (n) => n.type === "new_message");
        alice.emit("send_message", {
          conversationId,
          senderId: a,
          receiverId: b,
          message: "Hello from the old frontend",
          mediaUrl: null,
        });
        const got = await arrived;
        assert.equal(got.conversation_id, conversationId);
        assert.equal(got.message.message, "Hello from the old frontend");
        assert.equal(got.message.sender_id, a);
        assert.equal(got.message.receiver_id, b);
        assert.equal(got.conversation_context.chat_status, "real_time");
        assert.equal((await notified).data.sender_id, a);

        const history = await api(server.base, "GET", `/api/messages/conversations/${conversationId}/messages`, bToken);
        assert.equal(history.body.messages.at(-1).id, got.message.id, "stored before it was emitted");
      } finally {
        alice.close();
        bob.close();
      }
    });

    test("acknowledgements carry the REST envelope", async () => {
      const { a, b, aToken, bToken, conversationId } = await directPair(server.base);
      const alice = await connected(connect(aToken, transports));
      const bob = await connected(connect(bToken, transports));
      try {
        assert.deepEqual(await emitAck(alice, "join", a), { success: true, user_id: a });
        const joined = await emitAck(bob, "join_conversation", conversationId);
        assert.equal(joined.success, true);
        assert.equal(joined.conversation_context.id, conversationId);

        const ack = await emitAck(alice, "send_message", { conversationId, message: "with ack", clientMessageId: "js-1" });
        assert.equal(ack.success, true);
        assert.equal(ack.message.client_message_id, "js-1");
        const replay = await emitAck(alice, "send_message", { conversationId, message: "with ack", clientMessageId: "js-1" });
        assert.equal(replay.message.id, ack.message.id);

        const denied = await emitAck(alice, "send_message", { conversationId, senderId: b, message: "spoof" });
        assert.deepEqual(
          { success: denied.success, error_code: denied.error_code },
          { success: false, error_code: "FORBIDDEN" },
        );
        const invalid = await emitAck(alice, "send_message", { conversationId, message: "" });
        assert.equal(invalid.error_code, "VALIDATION_FAILED");

        const seenEvent = waitFor(alice, "message_seen");
        const seen = await emitAck(bob, "mark_seen", { messageId: ack.message.id, conversationId, userId: b });
        assert.deepEqual(seen, { success: true, seen_count: 1 });
        assert.equal((await seenEvent).messageId, ack.message.id);

        const sync = await emitAck(bob, "sync_messages", { conversationId });
        assert.equal(sync.success, true);
        assert.deepEqual(sync.messages.map((m) => m.id), [ack.message.id]);
      } finally {
        alice.close();
        bob.close();
      }
    });

    test("failures without a callback arrive as message_error", async () => {
      const { b, aToken, conversationId } = await directPair(server.base);
      const alice = await connected(connect(aToken, transports));
      try {
        const err = waitFor(alice, "message_error");
        alice.emit("send_message", { conversationId, senderId: b, message: "spoof", clientMessageId: "c-9" });
        const e = await err;
        assert.equal(e.error_code, "FORBIDDEN");
        assert.equal(e.clientMessageId, "c-9");
        assert.equal(typeof e.error, "string");
        // The socket stays usable.
        const ok = await emitAck(alice, "send_message", { conversationId, message: "still here" });
        assert.equal(ok.success, true);
      } finally {
        alice.close();
      }
    });

    test("typing indicators reach the other participant", async () => {
      const { a, aToken, bToken, conversationId } = await directPair(server.base);
      const alice = await connected(connect(aToken, transports));
      const bob = await connected(connect(bToken, transports));
      try {
        await emitAck(alice, "join_conversation", conversationId);
        await emitAck(bob, "join_conversation", conversationId);
        const typing = waitFor(bob, "user_typing", (t) => t.isTyping === true);
        alice.emit("typing_start", { conversationId, userId: a });
        assert.deepEqual(await typing, { conversationId, userId: a, isTyping: true });
        const stopped = waitFor(bob, "user_typing", (t) => t.isTyping === false);
        alice.emit("typing_stop", { conversationId, userId: a });
        await stopped;
      } finally {
        alice.close();
        bob.close();
      }
    });

    test("a message sent over REST arrives on the socket", async () => {
      const { aToken, bToken, conversationId } = await directPair(server.base);
      const bob = await connected(connect(bToken, transports));
      try {
        const unread = waitFor(bob, "unread_count_updated");
        const arrived = waitFor(bob, "new_message");
        const res = await api(server.base, "POST", "/api/messages/send", aToken, {
          conversation_id: conversationId,
          message: "over REST",
        });
        assert.equal(res.status, 201);
        assert.equal((await arrived).message.id, res.body.message.id);
        assert.equal((await unread).unread_count, 1);
      } finally {
        bob.close();
      }
    });
  });
}

test("socket.io-client 2.x (protocol v4) connects with a token in the query and chats", async () => {
  const { default: ioV2 } = await import("socket.io-client-v2");
  const { b, aToken, bToken, conversationId } = await directPair(server.base);
  const old = ioV2(server.base, { query: { token: bToken }, transports: ["websocket"], reconnection: false, forceNew: true });
  try {
    await new Promise((resolve, reject) => {
      old.once("connect", resolve);
      old.once("error", reject);
      old.once("connect_error", reject);
    });
    const joined = await new Promise((resolve) => old.emit("join_conversation", conversationId, resolve));
    assert.equal(joined.success, true);
    const arrived = new Promise((resolve) => old.once("new_message", resolve));
    await api(server.base, "POST", "/api/messages/send", aToken, { conversation_id: conversationId, message: "to v2" });
    const got = await arrived;
    assert.equal(got.message.message, "to v2");
    assert.equal(got.message.receiver_id, b);
  } finally {
    old.close();
  }
});

test("socket.io-client 2.x refused: the error is the string 'unauthorized', then the session closes", async () => {
  const { default: ioV2 } = await import("socket.io-client-v2");
  for (const transports of [["websocket"], ["polling"]]) {
    const old = ioV2(server.base, { query: { token: "nonsense" }, transports, reconnection: false, forceNew: true });
    try {
      // 2.x code compares the error to the string, as 2.x servers sent it.
      const err = await new Promise((resolve, reject) => {
        old.once("error", resolve);
        old.once("connect", () => reject(new Error("connected with a bad token")));
      });
      assert.equal(err, "unauthorized", `${transports[0]}: ${JSON.stringify(err)}`);
      assert.equal(old.connected, false);
      // The refused session does not live on pinging: the server closes it
      // once CONNECT_TIMEOUT_MS (1.5 s here) passes without a connection.
      const engine = old.io.engine;
      const closed = await new Promise((resolve) => engine.once("close", (reason) => resolve(reason)));
      assert.match(String(closed), /transport close|transport error/, `${transports[0]}: ${closed}`);
    } finally {
      old.close();
    }
  }
});

test("two sockets of one user: user_offline only after the last one closes", async () => {
  const { a, b, aToken, bToken } = await directPair(server.base);
  const alice = await connected(connect(aToken, ["websocket"]));
  const bob1 = await connected(connect(bToken, ["websocket"]));
  const bob2 = await connected(connect(bToken, ["polling"]));
  try {
    const offline = record(alice, "user_offline");
    bob1.close();
    // bob2 changing status is the marker: no user_offline may precede it.
    const away = waitFor(alice, "user_status_change", (c) => c.userId === b && c.status === "away");
    assert.equal((await emitAck(bob2, "user_status", { userId: b, status: "away" })).success, true);
    await away;
    assert.deepEqual(offline, []);
    const gone = waitFor(alice, "user_offline");
    bob2.close();
    assert.equal((await gone).userId, b);
    void a;
  } finally {
    alice.close();
  }
});
