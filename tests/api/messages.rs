use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn a_socket_message_reaches_the_other_participant_once_with_notification_and_unread() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    // b is in both the conversation room and its user room: one new_message only.
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let b_elsewhere = app.socket(&p.b_token).await;

    let ack = a.ack("send_message", json!({"conversationId": p.conversation, "message": "  hello  "})).await.unwrap();
    assert_eq!(ack["success"], true);
    let sent = &ack["message"];
    assert_eq!(sent["message"], "hello", "stored trimmed");
    assert_eq!(sent["sender_id"], p.a.as_str());
    assert_eq!(sent["receiver_id"], p.b.as_str());
    assert_eq!(sent["message_type"], "user_input");
    assert_eq!(sent["seen"], false);
    assert!(uuid::Uuid::parse_str(sent["id"].as_str().unwrap()).unwrap().get_version_num() == 7);

    let got = b.wait_for("new_message").await.unwrap();
    assert_eq!(got["conversation_id"], p.conversation.as_str());
    assert_eq!(got["message"], *sent);
    assert_eq!(got["conversation_context"]["chat_status"], "real_time");
    let note = b.wait_for("notification").await.unwrap();
    assert_eq!(note["type"], "new_message");
    assert_eq!(note["data"]["conversation_id"], p.conversation.as_str());
    assert_eq!(note["data"]["sender_id"], p.a.as_str());
    let unread = b.wait_for("unread_count_updated").await.unwrap();
    assert_eq!(unread["conversation_id"], p.conversation.as_str());
    assert_eq!(unread["unread_count"], 1);
    assert_eq!(unread["total_unread"], 1);
    b_elsewhere.wait_for("new_message").await.unwrap();

    // The sender's own sockets see the message too; the sender gets no notification.
    a.wait_for("new_message").await.unwrap();

    // A second message proves nothing else was queued in between.
    a.ack("send_message", json!({"conversationId": p.conversation, "message": "second"})).await.unwrap();
    let second = b.wait_for("new_message").await.unwrap();
    assert_eq!(second["message"]["message"], "second");
    assert!(b.take("new_message").is_empty(), "first message delivered twice");
    a.wait_for("new_message").await.unwrap();
    assert!(a.peek("notification").is_empty(), "sender notified of own message");
}

#[tokio::test]
async fn spoofed_sender_is_forbidden_by_ack_or_message_error_and_receiver_id_is_ignored() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    let ack = a
        .ack("send_message", json!({"conversationId": p.conversation, "senderId": p.b, "message": "spoof"}))
        .await
        .unwrap();
    assert_error(&ack, "FORBIDDEN");

    a.emit(
        "send_message",
        json!({"conversationId": p.conversation, "senderId": "mallory", "message": "spoof", "clientMessageId": "c-1"}),
    );
    let err = a.wait_for("message_error").await.unwrap();
    assert_eq!(err["error_code"], "FORBIDDEN");
    assert_eq!(err["clientMessageId"], "c-1");
    assert!(err["error"].is_string());

    let eve = uid("eve");
    let eve_socket = app.socket(&token(&eve, "influencer")).await;
    let b = app.socket(&p.b_token).await;
    let ok = a
        .ack(
            "send_message",
            json!({"conversationId": p.conversation, "senderId": p.a, "receiverId": eve, "message": "to b"}),
        )
        .await
        .unwrap();
    assert_eq!(ok["message"]["receiver_id"], p.b.as_str(), "receiver is the other participant");
    b.wait_for("new_message").await.unwrap();
    // Eve then gets a message of her own; nothing of the pair's conversation may precede it.
    let eve_conv = app.direct(&p.a_token, &eve).await;
    a.ack("send_message", json!({"conversationId": eve_conv, "message": "hi eve"})).await.unwrap();
    let got = eve_socket.wait_for("new_message").await.unwrap();
    assert_eq!(got["conversation_id"], eve_conv.as_str());
    assert!(eve_socket.take("new_message").is_empty());

    // REST refuses a spoofed sender the same way.
    for field in ["sender_id", "senderId"] {
        let (status, body) = app
            .post(
                "/api/messages/send",
                &p.a_token,
                json!({"conversation_id": p.conversation, "message": "spoof", field: p.b}),
            )
            .await;
        assert_eq!(status, 403, "{field}: {body}");
        assert_error(&body, "FORBIDDEN");
    }

    // Nothing was stored for the refused sends.
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.b_token).await;
    let texts: Vec<&str> =
        history["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["to b"]);
}

#[tokio::test]
async fn message_validation_limits() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    let send = |body: Value| {
        let mut body = body;
        body["conversationId"] = json!(p.conversation);
        a.ack("send_message", body)
    };
    assert_error(&send(json!({"message": ""})).await.unwrap(), "VALIDATION_FAILED");
    assert_error(&send(json!({"message": "   "})).await.unwrap(), "VALIDATION_FAILED");
    let too_long = send(json!({"message": "x".repeat(5001)})).await.unwrap();
    assert_error(&too_long, "VALIDATION_FAILED");
    assert!(too_long["details"]["message"].is_string());
    assert_eq!(send(json!({"message": "é".repeat(5000)})).await.unwrap()["success"], true);
    for url in ["javascript:alert(1)", "ftp://example.com/a.png", &format!("https://x.io/{}", "a".repeat(2048))] {
        let r = send(json!({"message": "pic", "mediaUrl": url})).await.unwrap();
        assert_error(&r, "VALIDATION_FAILED");
    }
    let media_only = send(json!({"message": "", "mediaUrl": "https://cdn.example.com/a.png"})).await.unwrap();
    assert_eq!(media_only["success"], true);
    assert_eq!(media_only["message"]["media_url"], "https://cdn.example.com/a.png");
    let (status, body) = app
        .post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": "y".repeat(5001)}))
        .await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");
}

#[tokio::test]
async fn a_repeated_client_message_id_returns_the_stored_message_and_emits_nothing() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    let b = app.socket(&p.b_token).await;
    let body = json!({"conversationId": p.conversation, "message": "once", "clientMessageId": "cm-42"});
    let first = a.ack("send_message", body.clone()).await.unwrap();
    let second = a.ack("send_message", body.clone()).await.unwrap();
    assert_eq!(first["message"]["id"], second["message"]["id"]);
    assert_eq!(first["message"]["client_message_id"], "cm-42");
    let (status, rest) = app
        .post(
            "/api/messages/send",
            &p.a_token,
            json!({"conversation_id": p.conversation, "message": "once", "client_message_id": "cm-42"}),
        )
        .await;
    assert_eq!(status, 200, "a replay is not a creation");
    assert_eq!(rest["message"]["id"], first["message"]["id"]);

    // Ten concurrent sends of one new id store one message.
    let sends = (0..10).map(|_| {
        a.ack(
            "send_message",
            json!({"conversationId": p.conversation, "message": "race", "clientMessageId": "cm-race"}),
        )
    });
    let acks = futures::future::join_all(sends).await;
    let ids: std::collections::HashSet<String> =
        acks.iter().map(|r| r.as_ref().unwrap()["message"]["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 1);

    b.wait_for_match("new_message", |m| m["message"]["message"] == "once", Duration::from_secs(5)).await.unwrap();
    b.wait_for_match("new_message", |m| m["message"]["message"] == "race", Duration::from_secs(5)).await.unwrap();
    a.ack("send_message", json!({"conversationId": p.conversation, "message": "end"})).await.unwrap();
    b.wait_for_match("new_message", |m| m["message"]["message"] == "end", Duration::from_secs(5)).await.unwrap();
    assert!(b.take("new_message").is_empty(), "a replay emitted a second new_message");
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.b_token).await;
    assert_eq!(history["pagination"]["total"], 3);
}

#[tokio::test]
async fn rest_and_socket_sends_reach_each_other() {
    let app = spawn().await;
    let p = pair(&app).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let (status, body) = app
        .post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": "via rest"}))
        .await;
    assert_eq!(status, 201);
    let live = b.wait_for("new_message").await.unwrap();
    assert_eq!(live["message"], body["message"]);

    b.ack("send_message", json!({"conversationId": p.conversation, "message": "via socket"})).await.unwrap();
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.a_token).await;
    let texts: Vec<&str> =
        history["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["via rest", "via socket"]);
}

#[tokio::test]
async fn direct_connect_makes_one_conversation_per_pair_even_when_raced() {
    let app = spawn().await;
    let (a, b) = (uid("a"), uid("b"));
    let a_token = token(&a, "brand_owner");
    let b_token = token(&b, "influencer");
    let (status, first) =
        app.post("/api/messages/direct-connect", &a_token, json!({"target_user_id": b, "initial_message": "hi"})).await;
    assert_eq!(status, 201);
    assert_eq!(first["message"]["message"], "hi");
    let (status, again) = app.post("/api/messages/direct-connect", &b_token, json!({"target_user_id": a})).await;
    assert_eq!(status, 200, "the reverse direction finds the same conversation");
    assert_eq!(again["conversation"]["id"], first["conversation"]["id"]);

    let (c, d) = (uid("c"), uid("d"));
    let c_token = token(&c, "influencer");
    let d_token = token(&d, "brand_owner");
    let calls = (0..12).map(|i| {
        let (t, target) = if i % 2 == 0 { (&c_token, &d) } else { (&d_token, &c) };
        app.post("/api/messages/direct-connect", t, json!({"target_user_id": target}))
    });
    let results = futures::future::join_all(calls).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|(s, b)| {
            assert!(s.is_success(), "{s} {b}");
            b["conversation"]["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|(s, _)| s.as_u16() == 201).count(), 1, "exactly one creation");

    let (status, body) = app.post("/api/messages/direct-connect", &a_token, json!({"target_user_id": a})).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");
    let (status, _) = app.post("/api/messages/direct-connect", &a_token, json!({"target_user_id": "bad id!"})).await;
    assert_eq!(status, 400);

    let (_, list) = app.get("/api/messages/direct-connections", &a_token).await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(list["conversations"][0]["other_user"]["id"], b.as_str());
}

#[tokio::test]
async fn conversation_list_orders_by_activity_with_last_message_and_unread() {
    let app = spawn().await;
    let me = uid("me");
    let me_token = token(&me, "influencer");
    let mut convs = vec![];
    for i in 0..3 {
        let other = uid("other");
        let other_token = token(&other, "brand_owner");
        let conv = app.direct(&other_token, &me).await;
        app.post("/api/messages/send", &other_token, json!({"conversation_id": conv, "message": format!("msg {i}")}))
            .await;
        convs.push((conv, other, other_token));
    }
    // Activity in the first conversation moves it to the top.
    app.post("/api/messages/send", &convs[0].2, json!({"conversation_id": convs[0].0, "message": "bump"})).await;
    let (_, list) = app.get("/api/messages/conversations?limit=2", &me_token).await;
    let items = list["conversations"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], convs[0].0.as_str());
    assert_eq!(items[0]["last_message"]["message"], "bump");
    assert_eq!(items[0]["unread_count"], 2);
    assert_eq!(items[0]["other_user"]["id"], convs[0].1.as_str());
    assert_eq!(items[1]["id"], convs[2].0.as_str());
    assert_eq!(list["pagination"], json!({"page": 1, "limit": 2, "total": 3, "has_more": true}));
    let (_, page2) = app.get("/api/messages/conversations?limit=2&page=2", &me_token).await;
    assert_eq!(page2["conversations"][0]["id"], convs[1].0.as_str());
    let (status, body) = app.get("/api/messages/conversations?type=group", &me_token).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");
    let (_, campaigns) = app.get("/api/messages/conversations?type=campaign", &me_token).await;
    assert_eq!(campaigns["pagination"]["total"], 0);
}

/// Concurrent sends share transactions; each still gets its own answer:
/// stored, refused for its conversation, or the stored twin of a repeat.
#[tokio::test]
async fn concurrent_sends_in_one_batch_each_get_their_own_answer() {
    let app = spawn_with(|s| s.rate_limits.enabled = false).await;
    let p = pair(&app).await;
    let f = app.flow("bid").await;
    let a = app.socket(&p.a_token).await;
    let mut sends = vec![];
    for i in 0..20 {
        sends.push(a.ack("send_message", json!({"conversationId": p.conversation, "message": format!("m{i}")})));
        sends.push(a.ack(
            "send_message",
            json!({"conversationId": p.conversation, "message": "twin", "clientMessageId": "same-id"}),
        ));
        sends.push(
            f.brand.socket.ack("send_message", json!({"conversationId": f.conversation, "message": "too early"})),
        );
    }
    let acks: Vec<Value> = futures::future::join_all(sends).await.into_iter().map(Result::unwrap).collect();
    let mut twin_ids = std::collections::HashSet::new();
    for (i, ack) in acks.iter().enumerate() {
        match i % 3 {
            0 => assert_eq!(ack["message"]["message"], format!("m{}", i / 3)),
            1 => {
                twin_ids.insert(ack["message"]["id"].as_str().unwrap().to_string());
            }
            _ => assert_error(ack, "CHAT_NOT_ENABLED"),
        }
    }
    assert_eq!(twin_ids.len(), 1, "repeats of one client message id are one message");
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.b_token).await;
    assert_eq!(history["pagination"]["total"], 21);
}

/// Messages to one user from several conversations at once (so several in
/// one batch): every `unread_count_updated` carries that conversation's count
/// and the user's total over all their conversations, as its commit left them.
#[tokio::test]
async fn unread_totals_cover_every_conversation_when_sends_share_a_batch() {
    let app = spawn_with(|s| s.rate_limits.enabled = false).await;
    let me = uid("me");
    let me_token = token(&me, "influencer");
    let mut senders = vec![];
    for _ in 0..3 {
        let other = uid("other");
        let other_token = token(&other, "brand_owner");
        let conv = app.direct(&other_token, &me).await;
        senders.push((conv, app.socket(&other_token).await));
    }
    let mine = app.socket(&me_token).await;
    let mut sends = vec![];
    for round in 0..5 {
        for (conv, socket) in &senders {
            sends.push(socket.ack("send_message", json!({"conversationId": conv, "message": format!("r{round}")})));
        }
    }
    for ack in futures::future::join_all(sends).await {
        assert_eq!(ack.unwrap()["success"], true);
    }
    let mut top = std::collections::HashMap::new();
    let mut highest_total = 0;
    for _ in 0..15 {
        let u = mine.wait_for("unread_count_updated").await.unwrap();
        let (count, total) = (u["unread_count"].as_u64().unwrap(), u["total_unread"].as_u64().unwrap());
        assert!(total >= count, "total {total} below the conversation's {count}");
        let c = top.entry(u["conversation_id"].as_str().unwrap().to_string()).or_insert(0);
        *c = (*c).max(count);
        highest_total = highest_total.max(total);
    }
    assert_eq!(highest_total, 15);
    assert_eq!(top.len(), 3);
    assert!(top.values().all(|&c| c == 5), "final counts per conversation: {top:?}");
    // One more, alone in its batch: the total still counts the other two.
    let (conv, socket) = &senders[0];
    socket.ack("send_message", json!({"conversationId": conv, "message": "alone"})).await.unwrap();
    let u = mine.wait_for("unread_count_updated").await.unwrap();
    assert_eq!((u["unread_count"].as_u64(), u["total_unread"].as_u64()), (Some(6), Some(16)));
    let (_, list) = app.get("/api/messages/conversations", &me_token).await;
    let unread: Vec<u64> =
        list["conversations"].as_array().unwrap().iter().map(|c| c["unread_count"].as_u64().unwrap()).collect();
    assert_eq!(unread, vec![6, 5, 5]);
}

#[tokio::test]
async fn a_nul_character_is_a_validation_error_on_every_database() {
    let app = spawn().await;
    let p = pair(&app).await;
    let (status, body) = app
        .post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": "a\u{0}b"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_error(&body, "VALIDATION_FAILED");
    assert!(body["details"]["message"].is_string(), "the field is named: {body}");
    let s = app.socket(&p.a_token).await;
    let ack = s
        .ack("send_message", json!({"conversationId": p.conversation, "message": "x", "clientMessageId": "c\u{0}"}))
        .await
        .unwrap();
    assert_error(&ack, "VALIDATION_FAILED");
    assert!(ack["details"]["clientMessageId"].is_string(), "{ack}");
    // The literal text \u0000 is not a NUL and is stored as written.
    let (status, body) = app
        .post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": "\\u0000"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"]["message"], "\\u0000");

    // A signed token whose name holds a NUL still works; the NUL is dropped.
    let id = uid("nul");
    let t = sign(json!({"id": id, "role": "influencer", "name": "A\u{0}sha", "exp": exp_in(600)}), SECRET);
    let (status, _) = app.get("/api/messages/unread-count", &t).await;
    assert_eq!(status, 200);
    let (status, body) = app.post("/api/messages/direct-connect", &t, json!({"target_user_id": p.a})).await;
    assert_eq!(status, 201, "{body}");
    let (_, list) = app.get("/api/messages/conversations", &p.a_token).await;
    let names: Vec<&str> =
        list["conversations"].as_array().unwrap().iter().filter_map(|c| c["other_user"]["name"].as_str()).collect();
    assert!(names.contains(&"Asha"), "{names:?}");
}

#[tokio::test]
async fn the_system_user_takes_no_direct_conversation() {
    let app = spawn().await;
    let t = token(&uid("u"), "influencer");
    let (status, body) = app
        .post("/api/messages/direct-connect", &t, json!({"target_user_id": "00000000-0000-0000-0000-000000000000"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["details"]["target_user_id"].is_string(), "{body}");
}

/// No commit checkpoints SQLite's WAL (`wal_autocheckpoint` is off): a
/// background task copies it into the database file. Always on a SQLite file
/// of its own, whichever database the other tests use. Reads the WAL index
/// (`-shm`, SQLite's documented layout): the last frame written (`mxFrame`,
/// byte 16) and the last copied back (`nBackfill`, byte 96).
#[tokio::test]
async fn sqlite_wal_is_copied_back_in_the_background_not_by_commits() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("checkpointed.db");
    let url = format!("sqlite://{}?mode=rwc", db_path.display());
    let app = spawn_with(|s| s.database_url = url).await;
    let p = pair(&app).await;
    for i in 0..20 {
        let (status, _) = app
            .post(
                "/api/messages/send",
                &p.a_token,
                json!({"conversation_id": p.conversation, "message": format!("m{i}")}),
            )
            .await;
        assert!(status.is_success());
    }
    let shm = dir.path().join("checkpointed.db-shm");
    let frames = |b: &[u8], at: usize| u32::from_ne_bytes(b[at..at + 4].try_into().unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let index = std::fs::read(&shm).expect("the WAL index exists");
        let (written, copied) = (frames(&index, 16), frames(&index, 96));
        assert!(written > 0, "the messages were written to the WAL");
        if copied == written {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the WAL was not copied back: {copied} of {written} frames");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
