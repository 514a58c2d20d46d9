// SOCKETIO_PARSER=msgpack: the official socket.io-msgpack-parser, as a
// frontend that chose binary frames uses it, over WebSocket and polling.

import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { startServer, token, uid, waitFor, emitAck, connected, directPair } from "./harness.mjs";

let server;
before(async () => {
  server = await startServer({ SOCKETIO_PARSER: "msgpack" });
});
after(async () => {
  await server?.stop();
});

function connect(tokenValue, transports) {
  return io(server.base, {
    auth: { token: tokenValue },
    transports,
    parser: msgpackParser,
    reconnection: false,
    forceNew: true,
  });
}



for (const transports of [["websocket"], ["polling"]]) {
  describe(`msgpack over ${transports[0]}`, () => {
    test("send_message is acked with the stored message and the peer gets new_message", async () => {
      const { a, b, aToken, bToken, conversationId } = await directPair(server.base);
      const alice = await connected(connect(aToken, transports));
      const bob = await connected(connect(bToken, transports));
      try {
        const joined = await emitAck(bob, "join_conversation", { conversationId });
        assert.equal(joined.success, true, JSON.stringify(joined));
        const arrived = waitFor(bob, "new_message");
        const ack = await emitAck(alice, "send_message", {
          conversationId,
          message: "packed",
          clientMessageId: uid("c"),
        });
        assert.equal(ack.success, true, JSON.stringify(ack));
        assert.equal(ack.message.message, "packed");
        assert.equal(ack.message.sender_id, a);
        const got = await arrived;
        assert.equal(got.message.id, ack.message.id);
        assert.equal(got.message.receiver_id, b);
      } finally {
        alice.close();
        bob.close();
      }
    });

    test("a refused token is a connect_error 'unauthorized', bad input an error ack", async () => {
      const refused = connect("nonsense", transports);
      const err = await new Promise((resolve) => refused.once("connect_error", resolve));
      assert.equal(err.message, "unauthorized");
      refused.close();
      const { aToken } = await directPair(server.base);
      const alice = await connected(connect(aToken, transports));
      try {
        const ack = await emitAck(alice, "send_message", { message: 42 });
        assert.equal(ack.success, false);
        assert.equal(ack.error_code, "VALIDATION_FAILED");
      } finally {
        alice.close();
      }
    });
  });
}
