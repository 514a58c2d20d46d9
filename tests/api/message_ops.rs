//! Contract section 8: edits, deletes, reactions and quoted replies over
//! both transports, with the events each change sends, to whom, once.

use std::time::Duration;

use entity::conversation;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

async fn call(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app.http.request(method, format!("{}{path}", app.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn send(s: &parley_client::Client, conversation: &str, text: &str) -> Value {
    let ack = s.ack("send_message", json!({"conversationId": conversation, "message": text})).await.unwrap();
    assert_eq!(ack["success"], true, "{ack}");
    ack["message"].clone()
}

async fn history(app: &TestApp, conversation: &str, token: &str) -> Vec<Value> {
    let (_, body) = app.get(&format!("/api/messages/conversations/{conversation}/messages"), token).await;
    body["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_sender_edits_within_the_window_and_everyone_sees_it_once() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let b_elsewhere = app.socket(&p.b_token).await;
    let sent = send(&a, &p.conversation, "helo").await;
    assert_eq!(sent["edited_at"], Value::Null);
    assert_eq!(sent["deleted_at"], Value::Null);
    assert_eq!(sent["reactions"], json!({}));
    assert_eq!(sent["reply_to"], Value::Null);
    b.wait_for("new_message").await.unwrap();
    let id = sent["id"].as_str().unwrap().to_string();

    let ack = a.ack("edit_message", json!({"messageId": id, "message": " hello "})).await.unwrap();
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["message"]["message"], "hello");
    assert!(ack["message"]["edited_at"].is_string());
    for s in [&a, &b, &b_elsewhere] {
        let got = s.wait_for("message_updated").await.unwrap();
        assert_eq!(got["conversation_id"], p.conversation.as_str());
        assert_eq!(got["message"], ack["message"]);
    }

    // REST twin; someone else's message is refused.
    let (status, body) = call(
        &app,
        reqwest::Method::PUT,
        &format!("/api/messages/{id}"),
        &p.a_token,
        Some(json!({"message": "hello!"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"]["message"], "hello!");
    let (status, body) =
        call(&app, reqwest::Method::PUT, &format!("/api/messages/{id}"), &p.b_token, Some(json!({"message": "mine"})))
            .await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    let empty = a.ack("edit_message", json!({"messageId": id, "message": "  "})).await.unwrap();
    assert_error(&empty, "VALIDATION_FAILED");

    // One update per socket, even for b, who is in the room and its user room.
    b.wait_for("message_updated").await.unwrap();
    assert!(b.take("message_updated").is_empty(), "message_updated delivered twice");
    let rows = history(&app, &p.conversation, &p.b_token).await;
    assert_eq!(rows.last().unwrap()["message"], "hello!");

    // The earlier texts are kept, oldest first, for the admin views.
    let earlier =
        parley::domain::messages::edit_history(&app.state.db, uuid::Uuid::parse_str(&id).unwrap()).await.unwrap();
    let texts: Vec<&str> = earlier.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(texts, ["helo", "hello"]);

    // Past the window (15 minutes by default) the text is final.
    app.state.clock.advance(Duration::from_secs(15 * 60 + 1));
    let late = a.ack("edit_message", json!({"messageId": id, "message": "too late"})).await.unwrap();
    assert_error(&late, "VALIDATION_FAILED");
    assert_eq!(late["message"], "messageId: messages can be edited for 15 minutes after they are sent", "{late}");
    assert_eq!(late["details"]["edit_window_ms"], 900_000, "{late}");
}

#[tokio::test]
async fn a_missing_message_id_is_a_validation_error_naming_it_and_an_unknown_one_not_found() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    for (event, body) in [
        ("edit_message", json!({"message": "x"})),
        ("delete_message", json!({})),
        ("add_reaction", json!({"emoji": "👍"})),
        ("remove_reaction", json!({"messageId": "  ", "emoji": "👍"})),
        ("flag_message", json!({"reason": "spam"})),
    ] {
        let ack = a.ack(event, body).await.unwrap();
        assert_error(&ack, "VALIDATION_FAILED");
        assert_eq!(ack["details"]["messageId"], "is required", "{event}: {ack}");
    }
    let unknown = uuid::Uuid::now_v7().to_string();
    let ack = a.ack("delete_message", json!({"messageId": unknown})).await.unwrap();
    assert_error(&ack, "NOT_FOUND");
}

#[tokio::test]
async fn an_edit_window_of_zero_means_no_limit_and_cards_and_closed_chats_are_final() {
    let app = spawn_with(|s| s.time_rules.edit_window = Duration::ZERO).await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let sent = send(&a, &p.conversation, "one").await;
    app.state.clock.advance(Duration::from_secs(86_400 * 30));
    let ack = a.ack("edit_message", json!({"messageId": sent["id"], "message": "two"})).await.unwrap();
    assert_eq!(ack["message"]["message"], "two", "{ack}");

    // A closed conversation takes no edits.
    conversation::Entity::update_many()
        .set(conversation::ActiveModel { chat_status: Set("closed".into()), ..Default::default() })
        .filter(conversation::Column::Id.eq(uuid::Uuid::parse_str(&p.conversation).unwrap()))
        .exec(&app.state.db)
        .await
        .unwrap();
    let closed = a.ack("edit_message", json!({"messageId": sent["id"], "message": "three"})).await.unwrap();
    assert_error(&closed, "CONVERSATION_CLOSED");

    // A flow card is not the sender's own user message.
    let f = app.flow("bid").await;
    let rows = history(&app, &f.conversation, &f.brand.token).await;
    let card = rows.iter().find(|m| m["message_type"] == "automated" && m["sender_id"] == f.brand.id.as_str());
    let card = card.expect("the brand owner's opening card");
    let refused = f.brand.socket.ack("edit_message", json!({"messageId": card["id"], "message": "x"})).await.unwrap();
    assert_error(&refused, "FORBIDDEN");
    let refused = f.brand.socket.ack("delete_message", json!({"messageId": card["id"]})).await.unwrap();
    assert_error(&refused, "FORBIDDEN");
}

#[tokio::test]
async fn deleting_leaves_a_tombstone_fixes_unread_counts_and_repeats_change_nothing() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let first = send(&a, &p.conversation, "first").await;
    let second = send(&a, &p.conversation, "second").await;
    b.wait_for_match("unread_count_updated", |u| u["unread_count"] == 2, WAIT).await.unwrap();
    let id = second["id"].as_str().unwrap().to_string();

    let (status, body) = call(&app, reqwest::Method::DELETE, &format!("/api/messages/{id}"), &p.b_token, None).await;
    assert_eq!(status, 403, "only the sender (or an admin) deletes: {body}");

    let (status, body) = call(&app, reqwest::Method::DELETE, &format!("/api/messages/{id}"), &p.a_token, None).await;
    assert_eq!(status, 200, "{body}");
    let tomb = &body["message"];
    assert_eq!(tomb["message"], "");
    assert_eq!(tomb["media_url"], Value::Null);
    assert_eq!(tomb["reactions"], json!({}));
    assert!(tomb["deleted_at"].is_string());
    for s in [&a, &b] {
        let updated = s.wait_for("message_updated").await.unwrap();
        assert_eq!(updated["message"], *tomb);
        let gone = s.wait_for("message_deleted").await.unwrap();
        assert_eq!(gone["conversation_id"], p.conversation.as_str());
        assert_eq!(gone["message_id"], id.as_str());
        assert_eq!(gone["deleted_at"], tomb["deleted_at"]);
    }
    let unread = b.wait_for_match("unread_count_updated", |u| u["unread_count"] == 1, WAIT).await.unwrap();
    assert_eq!(unread["total_unread"], 1);
    let (_, counts) = app.get("/api/messages/unread-count", &p.b_token).await;
    assert_eq!(counts["unread_count"], 1);

    // Idempotent: the same tombstone, no events.
    let again = a.ack("delete_message", json!({"messageId": id})).await.unwrap();
    assert_eq!(again["success"], true, "{again}");
    assert_eq!(again["message"]["deleted_at"], tomb["deleted_at"]);
    // A deleted message cannot be edited.
    let edit = a.ack("edit_message", json!({"messageId": id, "message": "back"})).await.unwrap();
    assert_error(&edit, "VALIDATION_FAILED");
    // The tombstone stays in history; reading everything leaves nothing unread.
    let rows = history(&app, &p.conversation, &p.b_token).await;
    assert_eq!(rows.iter().filter(|m| m["deleted_at"].is_string()).count(), 1);
    let (_, seen) =
        app.post(&format!("/api/messages/conversations/{}/seen", p.conversation), &p.b_token, json!({})).await;
    assert_eq!(seen["seen_count"], 1, "only the live message is marked seen: {seen}");
    let (_, counts) = app.get("/api/messages/unread-count", &p.b_token).await;
    assert_eq!(counts["unread_count"], 0);

    // An admin deletes anyone's message.
    let admin = token(&uid("admin"), "admin");
    let (status, body) =
        call(&app, reqwest::Method::DELETE, &format!("/api/messages/{}", first["id"].as_str().unwrap()), &admin, None)
            .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["message"]["deleted_at"].is_string());
    let next = b.wait_for("message_deleted").await.unwrap();
    assert_eq!(next["message_id"], first["id"], "the repeated delete sent nothing");
}

#[tokio::test]
async fn reactions_are_idempotent_limited_and_reach_the_room() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let sent = send(&a, &p.conversation, "react to me").await;
    let id = sent["id"].as_str().unwrap().to_string();

    let ack = b.ack("add_reaction", json!({"messageId": id, "emoji": "👍"})).await.unwrap();
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["message_id"], id.as_str());
    assert_eq!(ack["reactions"], json!({"👍": [p.b]}));
    let got = a.wait_for("reaction_updated").await.unwrap();
    assert_eq!(
        got,
        json!({"conversation_id": p.conversation, "message_id": id, "reactions": {"👍": [p.b]},
               "user_id": p.b, "emoji": "👍", "action": "added"})
    );
    // A repeat changes nothing and sends nothing.
    let again = b.ack("add_reaction", json!({"messageId": id, "emoji": "👍"})).await.unwrap();
    assert_eq!(again["reactions"], json!({"👍": [p.b]}));
    let (status, body) = app.post(&format!("/api/messages/{id}/reactions"), &p.a_token, json!({"emoji": "👍"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reactions"], json!({"👍": [p.b, p.a]}), "users in the order they reacted");
    let next = a.wait_for("reaction_updated").await.unwrap();
    assert_eq!(next["user_id"], p.a.as_str(), "the repeat sent no event");

    let path = format!("/api/messages/{id}/reactions/{}", "%F0%9F%91%8D");
    let (status, body) = call(&app, reqwest::Method::DELETE, &path, &p.a_token, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reactions"], json!({"👍": [p.b]}));
    let removed = b.wait_for_match("reaction_updated", |r| r["action"] == "removed", WAIT).await.unwrap();
    assert_eq!(removed["user_id"], p.a.as_str());
    let (status, _) = call(&app, reqwest::Method::DELETE, &path, &p.a_token, None).await;
    assert_eq!(status, 200, "removing again is fine");

    for bad in ["", "two words", &"x".repeat(33)] {
        let r = b.ack("add_reaction", json!({"messageId": id, "emoji": bad})).await.unwrap();
        assert_error(&r, "VALIDATION_FAILED");
    }
    for i in 1..20 {
        let r = b.ack("add_reaction", json!({"messageId": id, "emoji": format!(":e{i}:")})).await.unwrap();
        assert_eq!(r["success"], true, "{r}");
    }
    let r = b.ack("add_reaction", json!({"messageId": id, "emoji": ":e21:"})).await.unwrap();
    assert_error(&r, "VALIDATION_FAILED");
    let r = a.ack("add_reaction", json!({"messageId": id, "emoji": ":e5:"})).await.unwrap();
    assert_eq!(r["success"], true, "an existing emoji takes more users: {r}");

    // Outsiders do not see the message; a deleted one loses its reactions.
    let eve = app.socket(&token(&uid("eve"), "influencer")).await;
    let r = eve.ack("add_reaction", json!({"messageId": id, "emoji": "👀"})).await.unwrap();
    assert_error(&r, "NOT_FOUND");
    a.ack("delete_message", json!({"messageId": id})).await.unwrap();
    let r = b.ack("add_reaction", json!({"messageId": id, "emoji": "👀"})).await.unwrap();
    assert_error(&r, "VALIDATION_FAILED");
    let rows = history(&app, &p.conversation, &p.a_token).await;
    assert_eq!(rows.last().unwrap()["reactions"], json!({}));
}

#[tokio::test]
async fn replies_quote_a_message_of_the_same_conversation_and_follow_its_changes() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let long = "é".repeat(250);
    let quoted = send(&a, &p.conversation, &long).await;
    let ack = b
        .ack("send_message", json!({"conversationId": p.conversation, "message": "yes", "replyTo": quoted["id"]}))
        .await
        .unwrap();
    assert_eq!(ack["success"], true, "{ack}");
    let reply_to = &ack["message"]["reply_to"];
    assert_eq!(reply_to["id"], quoted["id"]);
    assert_eq!(reply_to["sender_id"], p.a.as_str());
    assert_eq!(reply_to["message"].as_str().unwrap().chars().count(), 200);
    let got = a.wait_for_match("new_message", |m| m["message"]["message"] == "yes", WAIT).await.unwrap();
    assert_eq!(got["message"]["reply_to"], *reply_to);

    // REST spelling; a message of another conversation is refused.
    let (status, body) = app
        .post(
            "/api/messages/send",
            &p.a_token,
            json!({"conversation_id": p.conversation, "message": "ok", "reply_to": ack["message"]["id"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"]["reply_to"]["message"], "yes");
    let carol = uid("carol");
    app.get("/api/messages/unread-count", &token(&carol, "influencer")).await;
    let other = app.direct(&p.a_token, &carol).await;
    let r =
        a.ack("send_message", json!({"conversationId": other, "message": "x", "replyTo": quoted["id"]})).await.unwrap();
    assert_error(&r, "VALIDATION_FAILED");

    // The quote follows an edit, and a deleted quote shows no text.
    a.ack("edit_message", json!({"messageId": quoted["id"], "message": "short now"})).await.unwrap();
    let rows = history(&app, &p.conversation, &p.a_token).await;
    let reply = rows.iter().find(|m| m["message"] == "yes").unwrap();
    assert_eq!(reply["reply_to"]["message"], "short now");
    a.ack("delete_message", json!({"messageId": quoted["id"]})).await.unwrap();
    let rows = history(&app, &p.conversation, &p.a_token).await;
    let reply = rows.iter().find(|m| m["message"] == "yes").unwrap();
    assert_eq!(reply["reply_to"]["message"], "");
    assert_eq!(reply["reply_to"]["id"], quoted["id"]);
}
