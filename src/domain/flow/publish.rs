//! The events of a committed transition, in the order clients expect them.

use entity::{conversation, message};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{Action, State, engine::Via, rules::Transition};
use crate::{
    domain::{
        clock, conversations,
        events::{self, Outbound},
        messages,
    },
    error::AppResult,
};

/// The events of a committed transition, in the order clients expect them.
pub async fn publishable(
    db: &DatabaseConnection,
    before: &conversation::Model,
    after: &conversation::Model,
    t: &Transition,
    written: &[message::Model],
    actor: &str,
    action: Option<(Action, Via)>,
) -> AppResult<Vec<Outbound>> {
    let everyone = vec![
        events::conversation_room(after.id),
        events::user_room(&after.user1_id),
        events::user_room(&after.user2_id),
    ];
    let timestamp = clock::rfc3339(&after.updated_at);
    let reason = action.as_ref().map(|(a, _)| a.as_str()).unwrap_or("payment_captured");
    let mut out = vec![];
    let hops: Vec<(State, State)> = match t.via {
        Some(via) => vec![(t.from, via), (via, t.to)],
        None if t.from != t.to => vec![(t.from, t.to)],
        None => vec![],
    };
    for (from, to) in hops {
        let (awaiting, chat_status, card) = if to == t.to {
            (after.awaiting_role.clone(), after.chat_status.clone(), after.current_action_data.clone())
        } else {
            (to.awaiting().map(|r| r.as_str().to_string()), to.chat_status().to_string(), None)
        };
        out.push(Outbound::new(
            "conversation_state_changed",
            everyone.clone(),
            json!({
                "conversation_id": after.id,
                "previous_state": from.as_str(),
                "new_state": to.as_str(),
                "awaiting_role": awaiting,
                "chat_status": chat_status,
                "reason": reason,
                "timestamp": timestamp,
                "current_action_data": card,
            }),
        ));
    }
    for m in written {
        out.push(events::new_message(after, m));
    }
    // The message both sides see: the card or notice, never the audit.
    let shared = written.iter().find(|m| m.message_type != messages::AUDIT);
    let flow_update = json!({
        "previous_state": t.from.as_str(),
        "new_state": t.to.as_str(),
        "awaiting_role": after.awaiting_role,
    });
    match action {
        Some((action, Via::Button)) => out.push(Outbound::new(
            "button_action",
            vec![events::conversation_room(after.id)],
            json!({
                "button_id": action.as_str(),
                "message": shared.map(events::message_json),
                "flow_update": flow_update,
                "conversationId": after.id,
                "conversation_context": events::conversation_context(after),
            }),
        )),
        Some((_, Via::TextInput { input_type })) => out.push(Outbound::new(
            "text_input",
            vec![events::conversation_room(after.id)],
            json!({
                "input_type": input_type,
                "message": shared.map(events::message_json),
                "flow_update": flow_update,
                "conversationId": after.id,
            }),
        )),
        None => {}
    }
    // Nobody needs telling about a card they just gave themselves (negotiate → counter-offer).
    if let Some(card) = written.iter().find(|m| m.action_required && m.receiver_id != m.sender_id) {
        out.push(events::notification(
            &card.receiver_id,
            "action_required",
            json!({
                "conversation_id": after.id,
                "message": events::message_json(card),
                "flow_state": after.flow_state,
                "awaiting_role": after.awaiting_role,
                "sender_id": card.sender_id,
            }),
        ));
    }
    if t.to == State::ChatClosed && before.flow_state.as_deref() != Some(State::ChatClosed.as_str()) {
        let other = conversations::other_participant(after, actor);
        out.push(events::notification(
            other,
            "conversation_closed",
            json!({
                "conversation_id": after.id,
                "closed_by": actor,
                "reason": after.flow_data["closure"]["reason"],
                "message": shared.map(events::message_json),
            }),
        ));
    }
    let mut receivers: Vec<&str> =
        written.iter().filter(|m| !m.seen && m.sender_id != m.receiver_id).map(|m| m.receiver_id.as_str()).collect();
    receivers.sort();
    receivers.dedup();
    for receiver in receivers {
        out.extend(messages::unread_update(db, receiver, after.id).await);
    }
    Ok(out)
}
