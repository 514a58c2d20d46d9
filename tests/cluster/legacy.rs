//! The older `chat:*` protocol across nodes: its events are written on the
//! node that publishes, for sockets that may be on any node.

use serde_json::json;

use crate::tests::{WAIT, cluster, connect, direct, token};

#[tokio::test]
async fn old_protocol_sockets_hear_what_is_sent_through_another_node() {
    let c = cluster(2, &[]).await;
    let (a, b, conv) = direct(&c, "brand_owner", "influencer").await;
    // Alice's node publishes (her presence in the conversation) before any
    // old-protocol socket exists anywhere.
    let alice = connect(&c.nodes[0], &token(&a, "brand_owner")).await;
    assert_eq!(alice.ack("join_conversation", json!(conv)).await.unwrap()["success"], true);

    let bob = connect(&c.nodes[1], &token(&b, "influencer")).await;
    assert_eq!(bob.ack("chat:join", json!({"conversationId": conv})).await.unwrap()["success"], true);
    let sent = alice.ack("send_message", json!({"conversationId": conv, "message": "across nodes"})).await.unwrap();
    let id = sent["message"]["id"].clone();
    let got = bob.wait_for_match("chat:new", |d| d["message"]["id"] == id, WAIT).await.unwrap();
    assert_eq!(got["message"]["message"], "across nodes");
    let row = bob.wait_for_match("conversations:upsert", |u| u["last_message"]["id"] == id, WAIT).await.unwrap();
    assert_eq!(row["unread_count"], 1);
    assert_eq!(row["other_user"]["id"], a.as_str());
    let note = bob.wait_for("notification:new").await.unwrap();
    assert_eq!(note["notification"]["data"]["message"]["id"], id);

    // And back: Bob's chat:send and chat:read reach old- and current-protocol sockets on node 0.
    let alice_app = connect(&c.nodes[0], &token(&a, "brand_owner")).await;
    assert_eq!(alice_app.ack("chat:join", json!({"conversationId": conv})).await.unwrap()["success"], true);
    let reply = bob.ack("chat:send", json!({"tempId": "r1", "conversationId": conv, "text": "back"})).await.unwrap();
    let reply_id = reply["message"]["id"].clone();
    alice_app.wait_for_match("chat:new", |d| d["message"]["id"] == reply_id, WAIT).await.unwrap();
    alice.wait_for_match("new_message", |d| d["message"]["id"] == reply_id, WAIT).await.unwrap();
    bob.ack("chat:read", json!({"conversationId": conv, "upToMessageId": id})).await.unwrap();
    let read = alice_app.wait_for("chat:read").await.unwrap();
    assert_eq!(read["readerId"], b.as_str());
    assert_eq!(read["messageIds"], json!([id]));
    assert_eq!(alice.wait_for("message_seen").await.unwrap()["userId"], b.as_str());
}
