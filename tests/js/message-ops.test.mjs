// Contract section 8 from the official socket.io-client: edits, deletes,
// reactions and replies, with the events each sends, over WebSocket.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, api, waitFor, record, emitAck, connect, directPair } from "./harness.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});


async function joinedPair() {
  const { a, b, aToken, bToken, conversationId } = await directPair(server.base, ["alice", "bob"]);
  const sa = await connect(server.base, aToken);
  const sb = await connect(server.base, bToken);
  for (const s of [sa, sb]) {
    const ack = await emitAck(s, "join_conversation", conversationId);
    assert.equal(ack.success, true, JSON.stringify(ack));
  }
  return { a, b, aToken, bToken, conversationId, sa, sb };
}

test("edit, react, reply and delete reach the other side once each", async () => {
  const p = await joinedPair();
  try {
    const updates = record(p.sb, "message_updated");
    const sent = await emitAck(p.sa, "send_message", { conversationId: p.conversationId, message: "helo" });
    assert.equal(sent.success, true);
    assert.deepEqual(sent.message.reactions, {});
    assert.equal(sent.message.edited_at, null);
    const id = sent.message.id;

    const edited = waitFor(p.sb, "message_updated", (e) => e.message.message === "hello");
    const ack = await emitAck(p.sa, "edit_message", { messageId: id, message: "hello" });
    assert.equal(ack.success, true, JSON.stringify(ack));
    assert.ok(ack.message.edited_at);
    assert.deepEqual((await edited).message, ack.message);

    const refused = await emitAck(p.sb, "edit_message", { messageId: id, message: "mine" });
    assert.equal(refused.success, false);
    assert.equal(refused.error_code, "FORBIDDEN");

    const reacted = waitFor(p.sa, "reaction_updated");
    const r = await emitAck(p.sb, "add_reaction", { messageId: id, emoji: "👍" });
    assert.deepEqual(r.reactions, { "👍": [p.b] });
    const event = await reacted;
    assert.equal(event.action, "added");
    assert.equal(event.user_id, p.b);
    assert.equal(event.message_id, id);

    const reply = await emitAck(p.sb, "send_message", { conversationId: p.conversationId, message: "yes", replyTo: id });
    assert.equal(reply.success, true, JSON.stringify(reply));
    assert.deepEqual(reply.message.reply_to, { id, sender_id: p.a, message: "hello" });

    const deleted = waitFor(p.sb, "message_deleted");
    const gone = await emitAck(p.sa, "delete_message", { messageId: id });
    assert.equal(gone.message.message, "");
    assert.ok(gone.message.deleted_at);
    const d = await deleted;
    assert.equal(d.message_id, id);
    assert.equal(d.deleted_at, gone.message.deleted_at);
    assert.equal(updates.length, 2, "one message_updated for the edit and one for the delete");

    const history = await api(server.base, "GET", `/api/messages/conversations/${p.conversationId}/messages`, p.bToken);
    const quoted = history.body.messages.find((m) => m.message === "yes");
    assert.equal(quoted.reply_to.message, "", "a deleted quote shows no text");
  } finally {
    p.sa.close();
    p.sb.close();
  }
});

test("settings reach the caller's other devices and search finds the conversation's words", async () => {
  const p = await joinedPair();
  const phone = await connect(server.base, p.aToken);
  try {
    const told = waitFor(phone, "conversation_settings_updated");
    const res = await api(server.base, "POST", `/api/messages/conversations/${p.conversationId}/mute`, p.aToken, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await told, { conversation_id: p.conversationId, archived: false, muted_until: "forever" });

    await emitAck(p.sb, "send_message", { conversationId: p.conversationId, message: "Le café est prêt" });
    const found = await api(server.base, "GET", "/api/messages/search?q=cafe%20pre", p.aToken);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.results.length, 1);
    assert.equal(found.body.results[0].highlight, "Le <mark>café</mark> est <mark>prêt</mark>");
  } finally {
    phone.close();
    p.sa.close();
    p.sb.close();
  }
});
