use chrono::{TimeZone, Utc};

use super::*;

fn conversation() -> conversation::Model {
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 30, 0).unwrap();
    conversation::Model {
        id: Uuid::from_u128(1),
        conversation_type: "bid".into(),
        user1_id: "brand".into(),
        user2_id: "creator".into(),
        pair_key: "bid:1".into(),
        campaign_id: None,
        bid_id: Some(Uuid::from_u128(2)),
        request_id: None,
        chat_status: "real_time".into(),
        flow_state: Some("real_time".into()),
        awaiting_role: None,
        flow_data: json!({}),
        current_action_data: Some(json!({ "step": "chat" })),
        revision_count: 0,
        max_revisions: 3,
        version: 7,
        message_ttl_seconds: None,
        offer_expires_at: None,
        last_message_at: at,
        created_at: at,
        updated_at: at,
        contexts: None,
    }
}

fn message() -> message::Model {
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 31, 5).unwrap();
    let text = "Hi \"there\"\n".to_string();
    message::Model {
        id: Uuid::from_u128(3),
        client_message_id: Some("c-1".into()),
        search_text: None,
        ..crate::domain::messages::new_row(
            Uuid::from_u128(1),
            "brand".into(),
            "creator".into(),
            text,
            MessageType::UserInput,
            at,
        )
    }
}

#[test]
fn a_message_written_as_text_has_the_contract_shape() {
    let expected = json!({
        "id": "00000000-0000-0000-0000-000000000003",
        "conversation_id": "00000000-0000-0000-0000-000000000001",
        "sender_id": "brand",
        "receiver_id": "creator",
        "message": "Hi \"there\"\n",
        "media_url": null,
        "message_type": "user_input",
        "action_required": false,
        "action_data": null,
        "is_automated": false,
        "action_completed": false,
        "seen": false,
        "seen_at": null,
        "client_message_id": "c-1",
        "expires_at": null,
        "created_at": "2026-11-22T09:31:05.000Z",
        "edited_at": null,
        "deleted_at": null,
        "reactions": {},
        "reply_to": null,
    });
    assert_eq!(message_json(&message()), expected);
    let mut event = new_message(&conversation(), &message());
    assert!(matches!(event.data, Payload::Text(_)), "a new message is written once, as text");
    assert_eq!(event.message_id, Some(Uuid::from_u128(3)));
    assert_eq!(
        event.data.tree_mut(),
        &json!({
            "conversation_id": "00000000-0000-0000-0000-000000000001",
            "message": expected,
            "conversation_context": {
                "id": "00000000-0000-0000-0000-000000000001",
                "conversation_type": "bid",
                "chat_status": "real_time",
                "flow_state": "real_time",
                "awaiting_role": null,
                "current_action_data": { "step": "chat" },
            },
        })
    );
}
