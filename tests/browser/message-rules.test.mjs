// Which actions a message's menu offers, as the page decides them (the
// server has the last word on each): one's own text may be edited within
// the edit window and deleted; anyone in the conversation may reply and
// react; nothing is offered on a tombstone; an admin outside the
// conversation may only delete (in a closed one too); a closed
// conversation may otherwise only be read.
// Pure rules, run in Node without a browser.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createMessageOps, EDIT_WINDOW_MS } from "../../static/js/message-ops.js";

const ALICE = { id: "alice", role: "brand_owner" };
const ADMIN = { id: "root", role: "admin" };

function rules(me, { chat_status = "real_time", participants = ["alice", "bob"] } = {}) {
  const view = { id: "c1", messages: [], context: { chat_status }, conversation: { participants } };
  return createMessageOps({ view: () => view, me: () => me, socket: () => null, connected: () => false, patch() {}, redraw() {}, composer: {}, nameOf: (id) => id }).can;
}

const message = (over = {}) => ({
  id: "m1",
  sender_id: "alice",
  message_type: "user_input",
  message: "Hello",
  created_at: new Date().toISOString(),
  deleted_at: null,
  ...over,
});
const ago = (ms) => new Date(Date.now() - ms).toISOString();

test("own text: edit within the window, delete always; others' text: reply and react only", () => {
  const can = rules(ALICE);
  assert.deepEqual(can(message()), { react: true, reply: true, edit: true, remove: true });
  assert.deepEqual(can(message({ created_at: ago(EDIT_WINDOW_MS + 1000) })), { react: true, reply: true, edit: false, remove: true });
  assert.deepEqual(can(message({ sender_id: "bob" })), { react: true, reply: true, edit: false, remove: false });
});

test("a tombstone offers nothing; platform messages offer nothing to a participant", () => {
  const can = rules(ALICE);
  assert.deepEqual(can(message({ deleted_at: ago(10), message: "" })), { react: false, reply: false, edit: false, remove: false });
  assert.deepEqual(can(message({ message_type: "system", sender_id: "platform" })), { react: false, reply: false, edit: false, remove: false });
});

test("a closed conversation is read only; replies wait for free chat", () => {
  assert.deepEqual(rules(ALICE, { chat_status: "closed" })(message()), { react: false, reply: false, edit: false, remove: false });
  assert.deepEqual(rules(ALICE, { chat_status: "automated" })(message({ sender_id: "bob" })), { react: true, reply: false, edit: false, remove: false });
});

test("an admin outside the conversation may delete any message and nothing else", () => {
  const can = rules(ADMIN);
  assert.deepEqual(can(message()), { react: false, reply: false, edit: false, remove: true });
  assert.deepEqual(can(message({ message_type: "system" })), { react: false, reply: false, edit: false, remove: true });
  assert.deepEqual(rules(ADMIN, { chat_status: "closed" })(message()), { react: false, reply: false, edit: false, remove: true });
});
