use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(10);

fn is_audit(m: &Value) -> bool {
    m["message_type"] == "audit"
}

#[tokio::test]
async fn a_bid_runs_to_payment_pending_with_cards_events_and_private_audits() {
    let app = spawn().await;
    let f = app.flow("bid").await;

    // The opening card waits for the influencer (who connected after it was written):
    // a collaboration request with the proposed amount.
    let synced = f.creator.socket.ack("sync_messages", json!({"conversationId": f.conversation})).await.unwrap();
    let opening = synced["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(synced["messages"].as_array().unwrap().len(), 1, "the brand owner's audit is not the influencer's");
    let card = &opening["action_data"];
    assert_eq!(opening["action_required"], true);
    assert_eq!(card["visible_to"], "influencer");
    assert_eq!(card["flow_state"], "influencer_responding");
    assert!(opening["message"].as_str().unwrap().contains("₹4,000"));
    let ids: Vec<&str> = card["buttons"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["accept_connection", "reject_connection"]);

    // Free text is not allowed yet.
    let early =
        f.creator.socket.ack("send_message", json!({"conversationId": f.conversation, "message": "hi"})).await.unwrap();
    assert_error(&early, "CHAT_NOT_ENABLED");
    assert_eq!(early["details"], json!({"flow_state": "influencer_responding", "awaiting_role": "influencer"}));

    // The brand owner may not answer for the influencer.
    let turn = f.click(&f.brand, "accept_connection", json!({})).await;
    assert_error(&turn, "NOT_YOUR_TURN");
    assert_eq!(turn["details"]["awaiting_role"], "influencer");

    let ack = f.click(&f.creator, "accept_connection", json!({})).await;
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["conversation"]["flow_state"], "brand_owner_details");
    assert_eq!(ack["conversation"]["awaiting_role"], "brand_owner");
    let written = ack["messages"].as_array().unwrap();
    assert_eq!(written.len(), 2);
    assert!(is_audit(&written[0]));
    assert_eq!(written[0]["sender_id"], f.creator.id.as_str());
    assert_eq!(written[0]["receiver_id"], f.creator.id.as_str());
    assert_eq!(written[0]["seen"], true);
    assert_eq!(written[1]["action_data"]["visible_to"], "brand_owner");
    assert_eq!(written[1]["receiver_id"], f.brand.id.as_str());

    // The brand owner sees the state change, the card and an action_required notification.
    let changed = f.brand.socket.wait_for("conversation_state_changed").await.unwrap();
    assert_eq!(changed["previous_state"], "influencer_responding");
    assert_eq!(changed["new_state"], "brand_owner_details");
    assert_eq!(changed["reason"], "accept_connection");
    assert_eq!(changed["chat_status"], "automated");
    assert_eq!(changed["current_action_data"]["submit_action"], "send_project_details");
    let echo = f.brand.socket.wait_for("button_action").await.unwrap();
    assert_eq!(echo["button_id"], "accept_connection");
    assert_eq!(echo["flow_update"]["new_state"], "brand_owner_details");
    assert!(!is_audit(&echo["message"]), "the echo never carries the audit");
    let note = f.brand.socket.wait_for_match("notification", |n| n["type"] == "action_required", WAIT).await.unwrap();
    assert_eq!(note["data"]["conversation_id"], f.conversation.as_str());

    // Project details by text input, then acceptance and a price typed with a rupee sign.
    let details = f
        .brand
        .socket
        .ack(
            "text_input",
            json!({"conversationId": f.conversation, "input_type": "send_project_details", "text": "Three reels in June"}),
        )
        .await
        .unwrap();
    assert_eq!(details["conversation"]["flow_state"], "influencer_reviewing");
    assert_eq!(details["conversation"]["flow_data"]["project_details"]["details"], "Three reels in June");
    assert_eq!(f.step(&f.creator, "accept_project", json!({})).await, "brand_owner_pricing");
    let pricing = f
        .brand
        .socket
        .wait_for_match("new_message", |m| m["message"]["action_data"]["flow_state"] == "brand_owner_pricing", WAIT)
        .await
        .unwrap();
    assert_eq!(pricing["message"]["action_data"]["input_field"]["value"], 4000, "the proposed amount is pre-filled");
    let priced = f
        .brand
        .socket
        .ack("text_input", json!({"conversationId": f.conversation, "input_type": "price", "text": "₹5,000"}))
        .await
        .unwrap();
    assert_eq!(priced["conversation"]["flow_state"], "influencer_price_response");
    assert_eq!(priced["conversation"]["flow_data"]["price_offer"]["amount_paise"], 500_000);
    let offer_card = &priced["messages"][1]["action_data"];
    assert_eq!(
        offer_card["payment_breakdown"],
        json!({
            "total": 5000, "commission_percent": 10, "commission": 500, "net_to_influencer": 4500,
            "total_paise": 500000, "commission_paise": 50000, "net_to_influencer_paise": 450000, "currency": "INR"
        })
    );
    let text_echo = f.creator.socket.wait_for("text_input").await.unwrap();
    assert_eq!(text_echo["input_type"], "send_project_details");

    // Negotiation: counter-offer, the brand keeps its offer, the creator accepts it.
    assert_eq!(f.step(&f.creator, "negotiate_price", json!({})).await, "negotiation_input");
    assert_eq!(f.step(&f.creator, "send_counter_offer", json!({"price": 6500})).await, "brand_owner_negotiation");
    let kept = f.click(&f.brand, "reject_counter_offer", json!({})).await;
    assert_eq!(kept["conversation"]["flow_state"], "influencer_final_response");
    assert_eq!(kept["conversation"]["flow_data"]["final_offer"]["amount"], 5000);
    assert_eq!(f.step(&f.creator, "accept_final_offer", json!({})).await, "payment_pending");

    // Audit privacy, live: the creator never received one of the brand's audits and vice versa.
    f.brand.socket.ack("sync_messages", json!({"conversationId": f.conversation})).await.unwrap();
    for (party, other) in [(&f.creator, &f.brand), (&f.brand, &f.creator)] {
        for m in party.socket.take("new_message") {
            if is_audit(&m["message"]) {
                assert_eq!(m["message"]["receiver_id"], party.id.as_str(), "{} got {}'s audit", party.id, other.id);
            }
        }
    }
    // ... and in history and unread counts.
    let (_, brand_history) =
        app.get(&format!("/api/messages/conversations/{}/messages?limit=100", f.conversation), &f.brand.token).await;
    let (_, creator_history) =
        app.get(&format!("/api/messages/conversations/{}/messages?limit=100", f.conversation), &f.creator.token).await;
    for (history, me) in [(&brand_history, &f.brand.id), (&creator_history, &f.creator.id)] {
        let messages = history["messages"].as_array().unwrap();
        assert!(messages.iter().any(is_audit), "own audits are listed");
        for m in messages.iter().filter(|m| is_audit(m)) {
            assert_eq!(m["receiver_id"], me.as_str(), "another user's audit listed");
        }
    }
    let (_, unread) = app.get("/api/messages/unread-count", &f.creator.token).await;
    let cards_to_creator = creator_history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["receiver_id"] == f.creator.id.as_str() && m["sender_id"] != f.creator.id.as_str())
        .count();
    assert_eq!(unread["unread_count"], cards_to_creator, "audits are never unread");

    // Answered cards are marked complete; only the newest card is open.
    let open: Vec<&Value> = brand_history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["action_required"] == true && m["action_completed"] == false)
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["action_data"]["flow_state"], "payment_pending");

    let (_, ctx) = app.get(&format!("/api/messages/conversations/{}/context", f.conversation), &f.brand.token).await;
    assert_eq!(ctx["available_actions"], json!(["proceed_to_payment"]));
    assert_eq!(ctx["source"]["id"], f.source_id.as_str());
    let (_, ctx) = app.get(&format!("/api/messages/conversations/{}/context", f.conversation), &f.creator.token).await;
    assert_eq!(ctx["available_actions"], json!([]));
}

#[tokio::test]
async fn a_campaign_opens_with_its_budget_and_runs_to_payment_pending_over_rest() {
    let app = spawn().await;
    let f = app.flow("campaign").await;
    let (_, history) =
        app.get(&format!("/api/messages/conversations/{}/messages", f.conversation), &f.creator.token).await;
    let opening = history["messages"].as_array().unwrap().last().unwrap().clone();
    assert!(opening["message"].as_str().unwrap().contains("₹8,000"), "{opening}");
    assert!(opening["message"].as_str().unwrap().contains("Two posts and a story"));
    let path = format!("/api/messages/conversations/{}/button-click", f.conversation);
    let text = format!("/api/messages/conversations/{}/text-input", f.conversation);
    for (token, body, expect) in [
        (&f.creator.token, json!({"button_id": "accept_connection"}), "brand_owner_details"),
        (
            &f.brand.token,
            json!({"button_id": "send_project_details", "additional_data": {"details": "Two posts"}}),
            "influencer_reviewing",
        ),
        (&f.creator.token, json!({"button_id": "accept_project"}), "brand_owner_pricing"),
        (
            &f.brand.token,
            json!({"button_id": "send_price_offer", "additional_data": {"price": "7,500"}}),
            "influencer_price_response",
        ),
        (&f.creator.token, json!({"button_id": "negotiate_price"}), "negotiation_input"),
    ] {
        let (status, body) = app.post(&path, token, body).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["conversation"]["flow_state"], expect);
    }
    let (status, body) = app.post(&text, &f.creator.token, json!({"input_type": "price", "text": "8000"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversation"]["flow_state"], "brand_owner_negotiation");
    let (status, body) = app.post(&path, &f.brand.token, json!({"button_id": "accept_counter_offer"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["conversation"]["flow_state"], "payment_pending");
    assert_eq!(body["conversation"]["flow_data"]["agreed_price"]["amount"], 8000);
    let history = body["conversation"]["flow_data"]["negotiation_history"].as_array().unwrap();
    assert_eq!(history.len(), 3, "{history:?}");

    // REST errors use the HTTP codes of the contract.
    let (status, body) = app.post(&path, &f.creator.token, json!({"button_id": "accept_price"})).await;
    assert_eq!(status, 409);
    assert_error(&body, "FLOW_STATE_INVALID");
    assert_eq!(body["details"]["current_state"], "payment_pending");
    assert_eq!(body["details"]["awaiting_role"], "brand_owner");
    let (status, body) = app.post(&path, &f.creator.token, json!({"button_id": "proceed_to_payment"})).await;
    assert_eq!(status, 409);
    assert_error(&body, "NOT_YOUR_TURN");
    let (status, body) = app.post(&path, &f.brand.token, json!({})).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");
    let (status, body) =
        app.post(&path, &token(&uid("admin"), "admin"), json!({"button_id": "proceed_to_payment"})).await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    let (status, body) = app.post(&path, &token(&uid("eve"), "brand_owner"), json!({"button_id": "cancel"})).await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
}

#[tokio::test]
async fn racing_identical_actions_let_exactly_one_win_and_write_one_card() {
    let app = spawn().await;
    for _ in 0..3 {
        let f = app.flow("bid").await;
        let second_socket = app.joined(&f.creator.id, "influencer", &f.conversation).await;
        let body = json!({"conversationId": f.conversation, "button_id": "accept_connection", "additional_data": {}});
        let (a, b) = tokio::join!(
            f.creator.socket.ack("button_action", body.clone()),
            second_socket.ack("button_action", body.clone()),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let wins = [&a, &b].iter().filter(|r| r["success"] == true).count();
        assert_eq!(wins, 1, "expected exactly one winner, got {a} and {b}");
        let loser = if a["success"] == true { &b } else { &a };
        assert_error(loser, "FLOW_STATE_INVALID");
        assert_eq!(loser["details"]["current_state"], "brand_owner_details");
        let (_, history) =
            app.get(&format!("/api/messages/conversations/{}/messages", f.conversation), &f.brand.token).await;
        let cards = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["action_data"]["flow_state"] == "brand_owner_details")
            .count();
        assert_eq!(cards, 1);
    }
}

#[tokio::test]
async fn cancel_and_rejections_close_the_conversation_for_good() {
    let app = spawn().await;
    // The influencer declines at once.
    let f = app.flow("campaign").await;
    let ack = f.click(&f.creator, "reject_connection", json!({"reason": "Busy this month"})).await;
    assert_eq!(ack["conversation"]["flow_state"], "chat_closed");
    assert_eq!(ack["conversation"]["chat_status"], "closed");
    assert_eq!(ack["conversation"]["awaiting_role"], Value::Null);
    let note =
        f.brand.socket.wait_for_match("notification", |n| n["type"] == "conversation_closed", WAIT).await.unwrap();
    assert_eq!(note["data"]["reason"], "Busy this month");
    let notice =
        f.brand.socket.wait_for_match("new_message", |m| m["message"]["message_type"] == "system", WAIT).await.unwrap();
    assert_eq!(notice["message"]["sender_id"], "00000000-0000-0000-0000-000000000000");
    for (who, event, body) in [
        (&f.creator, "send_message", json!({"conversationId": f.conversation, "message": "wait"})),
        (&f.brand, "button_action", json!({"conversationId": f.conversation, "button_id": "cancel"})),
    ] {
        let r = who.socket.ack(event, body).await.unwrap();
        assert_error(&r, "CONVERSATION_CLOSED");
    }

    // The brand owner cancels during negotiation; cancel is refused once payment is pending.
    let g = app.flow("bid").await;
    g.step(&g.creator, "accept_connection", json!({})).await;
    g.step(&g.brand, "send_project_details", json!({"details": "x"})).await;
    let cancelled = g.click(&g.brand, "cancel", json!({"reason": "Budget cut"})).await;
    assert_eq!(cancelled["conversation"]["flow_state"], "chat_closed");
    assert_eq!(cancelled["conversation"]["flow_data"]["closure"]["by"], "brand_owner");
    assert_eq!(cancelled["conversation"]["flow_data"]["project_details"]["details"], "x", "earlier keys kept");

    let h = app.flow("bid").await;
    h.step(&h.creator, "accept_connection", json!({})).await;
    h.step(&h.brand, "send_project_details", json!({"details": "x"})).await;
    h.step(&h.creator, "accept_project", json!({})).await;
    h.step(&h.brand, "send_price_offer", json!({"price": 4000})).await;
    let rejected = h.click(&h.creator, "reject_price", json!({})).await;
    assert_eq!(rejected["conversation"]["flow_state"], "chat_closed");

    let k = app.flow("bid").await;
    k.step(&k.creator, "accept_connection", json!({})).await;
    k.step(&k.brand, "send_project_details", json!({"details": "x"})).await;
    k.step(&k.creator, "accept_project", json!({})).await;
    k.step(&k.brand, "send_price_offer", json!({})).await;
    assert_eq!(k.step(&k.creator, "accept_price", json!({})).await, "payment_pending");
    let late = k.click(&k.creator, "cancel", json!({})).await;
    assert_error(&late, "FLOW_STATE_INVALID");
}

/// The same steps over REST and over the socket end in the same place.
#[tokio::test]
async fn rest_and_socket_entry_points_give_identical_results() {
    let app = spawn().await;
    let steps: Vec<(bool, &str, Value)> = vec![
        (false, "accept_connection", json!({})),
        (true, "send_project_details", json!({"details": "Three reels"})),
        (false, "accept_project", json!({})),
        (true, "send_price_offer", json!({"price": 5000})),
        (false, "negotiate_price", json!({})),
        (false, "send_counter_offer", json!({"price": 5600})),
        (true, "make_final_offer", json!({"price": 5300})),
    ];
    let via_socket = app.flow("bid").await;
    let via_rest = app.flow("bid").await;
    for (by_brand, button, data) in &steps {
        let party = if *by_brand { &via_socket.brand } else { &via_socket.creator };
        let socket_ack = via_socket.click(party, button, data.clone()).await;
        let rest_party = if *by_brand { &via_rest.brand } else { &via_rest.creator };
        let (status, rest) = app
            .post(
                &format!("/api/messages/conversations/{}/button-click", via_rest.conversation),
                &rest_party.token,
                json!({"button_id": button, "additional_data": data}),
            )
            .await;
        assert_eq!(status, 200, "{rest}");
        assert_eq!(socket_ack["success"], rest["success"]);
        let (a, b) = (&socket_ack["conversation"], &rest["conversation"]);
        for key in ["flow_state", "awaiting_role", "chat_status", "revision_count"] {
            assert_eq!(a[key], b[key], "{button}: {key}");
        }
        let texts = |v: &Value| -> Vec<(String, String)> {
            v["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| (m["message_type"].as_str().unwrap().to_string(), m["message"].as_str().unwrap().to_string()))
                .collect()
        };
        assert_eq!(texts(&socket_ack), texts(&rest), "{button}");
        assert_eq!(a["current_action_data"]["buttons"], b["current_action_data"]["buttons"], "{button}: the same card");
    }
}

#[tokio::test]
async fn campaigns_bids_and_applications() {
    let app = spawn().await;
    let (owner, creator, other_owner) = (uid("owner"), uid("creator"), uid("other"));
    let owner_token = token(&owner, "brand_owner");
    let creator_token = token(&creator, "influencer");
    let other_token = token(&other_owner, "brand_owner");

    let (status, body) = app.post("/api/campaigns", &creator_token, json!({"title": "x", "budget": 100})).await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    for bad in [
        json!({"title": "x"}),
        json!({"title": "", "budget": 10}),
        json!({"title": "x", "budget": 1.234}),
        json!({"title": "x", "budget": -5}),
        json!({"title": "x", "budget": 20_000_000}),
    ] {
        let (status, body) = app.post("/api/campaigns", &owner_token, bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert_error(&body, "VALIDATION_FAILED");
    }
    let (status, body) = app.post("/api/campaigns", &owner_token, json!({"title": "Launch", "budget": 1234.5})).await;
    assert_eq!(status, 201);
    assert_eq!(body["campaign"]["budget"], 1234.5);
    assert_eq!(body["campaign"]["budget_paise"], 123_450);
    let campaign = body["campaign"]["id"].as_str().unwrap().to_string();
    let (status, got) = app.get(&format!("/api/campaigns/{campaign}"), &creator_token).await;
    assert_eq!(status, 200);
    assert_eq!(got["campaign"]["title"], "Launch");
    let (status, _) = app.get(&format!("/api/campaigns/{}", uuid::Uuid::now_v7()), &creator_token).await;
    assert_eq!(status, 404);
    let (status, body) =
        app.post("/api/bids", &owner_token, json!({"title": "Bid", "min_budget": 5000, "max_budget": 100})).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");

    // The owner follows the campaign room and hears about applications.
    let owner_socket = app.socket(&owner_token).await;
    let ack = owner_socket.ack("join_campaign_room", json!(campaign)).await.unwrap();
    assert_eq!(ack["success"], true);
    let stranger = app.socket(&other_token).await;
    assert_error(&stranger.ack("join_campaign_room", json!(campaign)).await.unwrap(), "FORBIDDEN");
    assert_error(&stranger.ack("join_bid_room", json!(uuid::Uuid::now_v7().to_string())).await.unwrap(), "NOT_FOUND");

    let (status, body) = app.post("/api/requests", &owner_token, json!({"campaign_id": campaign})).await;
    assert_eq!(status, 403, "brand owners do not apply: {body}");
    let (status, applied) = app
        .post(
            "/api/requests",
            &creator_token,
            json!({"campaign_id": campaign, "proposed_amount": 1000, "message": "Hi"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, again) = app.post("/api/requests", &creator_token, json!({"campaign_id": campaign})).await;
    assert_eq!(status, 200, "one application per influencer");
    assert_eq!(again["request"]["id"], applied["request"]["id"]);
    let event = owner_socket.wait_for("new_application").await.unwrap();
    assert_eq!(event["campaign_id"], campaign.as_str());
    assert_eq!(event["influencer_id"], creator.as_str());
    assert_eq!(event["request_id"], applied["request"]["id"]);
    assert_eq!(event["proposed_amount"], 1000);
    let note = owner_socket.wait_for_match("notification", |n| n["type"] == "new_application", WAIT).await.unwrap();
    assert_eq!(note["data"]["campaign_id"], campaign.as_str());

    // The applicant may follow the room too.
    let creator_socket = app.socket(&creator_token).await;
    assert_eq!(
        creator_socket.ack("join_campaign_room", json!({"campaignId": campaign})).await.unwrap()["success"],
        true
    );
    assert_eq!(creator_socket.ack("leave_campaign_room", json!(campaign)).await.unwrap()["success"], true);

    let (status, list) = app.get(&format!("/api/campaigns/{campaign}/requests"), &owner_token).await;
    assert_eq!(status, 200);
    assert_eq!(list["pagination"]["total"], 1);
    assert_eq!(list["requests"][0]["influencer_id"], creator.as_str());
    assert_eq!(list["requests"][0]["influencer"]["name"], format!("{creator} name"));

    // Browsing: everyone's campaigns newest first, or the owner's own.
    app.post("/api/campaigns", &other_token, json!({"title": "Other", "budget": 50})).await;
    let (status, all) = app.get("/api/campaigns?limit=5", &creator_token).await;
    assert_eq!(status, 200);
    assert_eq!(all["campaigns"][0]["title"], "Other");
    assert_eq!(all["pagination"]["total"], 2);
    let (_, mine) = app.get("/api/campaigns?mine=true", &owner_token).await;
    assert_eq!(mine["pagination"]["total"], 1);
    assert_eq!(mine["campaigns"][0]["id"], campaign.as_str());
    let (_, bids) = app.get("/api/bids?mine=true", &owner_token).await;
    assert_eq!(bids["pagination"]["total"], 0);
    let (status, _) = app.get(&format!("/api/campaigns/{campaign}/requests"), &other_token).await;
    assert_eq!(status, 403);

    // Only the owner opens conversations; repeats return the same one.
    let init = json!({"campaign_id": campaign, "influencer_id": creator});
    let (status, body) = app.post("/api/campaigns/automated/initialize", &other_token, init.clone()).await;
    assert_eq!(status, 403, "{body}");
    let (status, first) = app.post("/api/campaigns/automated/initialize", &owner_token, init.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(first["flow_state"], "influencer_responding");
    assert_eq!(first["awaiting_role"], "influencer");
    assert_eq!(first["conversation"]["request_id"], applied["request"]["id"]);
    let (status, second) = app.post("/api/campaigns/automated/initialize", &owner_token, init).await;
    assert_eq!(status, 200);
    assert_eq!(second["conversation"]["id"], first["conversation"]["id"]);
    let (_, list) = app.get(&format!("/api/campaigns/{campaign}/requests"), &owner_token).await;
    assert_eq!(list["requests"][0]["status"], "connected");
    let (status, body) = app
        .post(
            "/api/campaigns/automated/initialize",
            &owner_token,
            json!({"campaign_id": campaign, "influencer_id": other_owner}),
        )
        .await;
    assert_eq!(status, 400, "a known brand owner is not an influencer: {body}");

    let bid = app.create_bid(&owner_token).await;
    let (status, body) = app
        .post("/api/bids/automated/initialize", &owner_token, json!({"bid_id": bid, "influencer_id": creator}))
        .await;
    assert_eq!(status, 400, "bids need the proposed amount");
    assert_eq!(body["details"]["proposed_amount"], "is required");
    let (_, list) = app.get("/api/messages/conversations?type=campaign", &creator_token).await;
    assert_eq!(list["pagination"]["total"], 1);
}

#[tokio::test]
async fn outsiders_and_spoofed_ids_are_forbidden_before_any_input_is_read() {
    let app = spawn().await;
    let f = app.flow("bid").await;
    let outsider_token = token(&uid("outsider"), "influencer");
    let outsider = app.socket(&outsider_token).await;
    for input_type in ["bogus", "send_project_details"] {
        let ack = outsider
            .ack("text_input", json!({"conversationId": f.conversation, "input_type": input_type, "text": "y"}))
            .await
            .unwrap();
        assert_error(&ack, "FORBIDDEN");
        let (status, body) = app
            .post(
                &format!("/api/messages/conversations/{}/text-input", f.conversation),
                &outsider_token,
                json!({"input_type": input_type, "text": "y"}),
            )
            .await;
        assert_eq!(status, 403, "{body}");
    }

    // A participant naming the other party as themselves is refused, by socket and by REST.
    let spoofed = json!({"conversationId": f.conversation, "button_id": "accept_connection", "userId": f.creator.id});
    assert_error(&f.brand.socket.ack("button_action", spoofed).await.unwrap(), "FORBIDDEN");
    let spoofed = json!({"conversationId": f.conversation, "input_type": "x", "text": "y", "senderId": f.brand.id});
    assert_error(&f.creator.socket.ack("text_input", spoofed).await.unwrap(), "FORBIDDEN");
    let (status, body) = app
        .post(
            &format!("/api/messages/conversations/{}/button-click", f.conversation),
            &f.brand.token,
            json!({"button_id": "accept_connection", "user_id": f.creator.id}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // Their own id is fine.
    let own = json!({"conversationId": f.conversation, "button_id": "accept_connection", "userId": f.creator.id});
    let ack = f.creator.socket.ack("button_action", own).await.unwrap();
    assert_eq!(ack["conversation"]["flow_state"], "brand_owner_details", "{ack}");
}
