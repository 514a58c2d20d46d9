//! The events of a committed transition, in the order clients expect them:
//! state changes, the new messages, the echo of the action, notifications,
//! then unread counts.

use entity::{conversation, message, notification};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use super::{
    State,
    rules::{Cause, Transition},
};
use crate::{
    domain::{
        clock, conversations,
        events::{self, Outbound},
        messages,
        names::MessageType,
        notifications::{self, Draft},
        outbox,
    },
    error::AppResult,
};

/// Which prompt of a card the action answers, which decides its echo event.
#[derive(Clone, Debug)]
pub enum Prompt {
    Button,
    TextInput { input_type: String },
}

/// The message both sides see: the card or notice, never the audit.
fn shared(written: &[message::Model]) -> Option<&message::Model> {
    written.iter().find(|m| m.message_type != MessageType::Audit)
}

/// The events of a committed transition. `prompt` is how the action
/// arrived (none for the gateway's captures and failures, and openings);
/// `notified` are the notifications its transaction stored.
pub async fn publishable(
    db: &DatabaseConnection,
    after: &conversation::Model,
    t: &Transition,
    written: &[message::Model],
    notified: &[notification::Model],
    prompt: Option<&Prompt>,
) -> AppResult<Vec<Outbound>> {
    let mut out = state_changes(after, t);
    out.extend(written.iter().map(|m| events::new_message(after, m)));
    if let (Cause::Action(action), Some(prompt)) = (t.cause, prompt) {
        out.push(echo(after, t, action.as_str(), prompt, shared(written)));
    }
    out.extend(notified.iter().map(notifications::event));
    let mut receivers: Vec<&str> =
        written.iter().filter(|m| !m.seen && m.sender_id != m.receiver_id).map(|m| m.receiver_id.as_str()).collect();
    receivers.sort();
    receivers.dedup();
    for receiver in receivers {
        out.extend(messages::unread_update(db, receiver, after.id).await);
    }
    // The transition's own time: a mute that ends meanwhile is still a mute.
    Ok(crate::domain::settings::drop_muted(db, out, after.updated_at).await)
}

fn everyone(c: &conversation::Model) -> Vec<String> {
    vec![events::conversation_room(c.id), events::user_room(&c.user1_id), events::user_room(&c.user2_id)]
}

/// What each state entered says (approval passes through `work_approved`
/// on its way to `real_time`): the `conversation_state_changed` data.
pub fn state_changed_data(after: &conversation::Model, t: &Transition) -> Vec<Value> {
    let hops: Vec<(State, State)> = match t.through {
        Some(through) => vec![(t.from, through), (through, t.to)],
        None if t.from != t.to => vec![(t.from, t.to)],
        None => vec![],
    };
    let timestamp = clock::rfc3339(&after.updated_at);
    hops.into_iter()
        .map(|(from, to)| {
            let (awaiting, chat_status, card) = if to == t.to {
                (after.awaiting_role.clone(), after.chat_status.clone(), after.current_action_data.clone())
            } else {
                (to.awaiting().map(|r| r.as_str().to_string()), to.chat_status().as_str().to_string(), None)
            };
            json!({
                "conversation_id": after.id,
                "previous_state": from.as_str(),
                "new_state": to.as_str(),
                "awaiting_role": awaiting,
                "chat_status": chat_status,
                "reason": t.cause.reason(),
                "timestamp": timestamp,
                "current_action_data": card,
            })
        })
        .collect()
}

fn state_changes(after: &conversation::Model, t: &Transition) -> Vec<Outbound> {
    state_changed_data(after, t)
        .into_iter()
        .map(|data| Outbound::new("conversation_state_changed", everyone(after), data))
        .collect()
}

/// The webhook events of a transition: its state changes and its messages.
pub fn webhook_events(
    hooks: &outbox::Webhooks,
    after: &conversation::Model,
    t: &Transition,
    written: &[message::Model],
) -> AppResult<Vec<outbox::Event>> {
    let mut out = vec![];
    for data in state_changed_data(after, t) {
        out.extend(outbox::event(hooks, outbox::CONVERSATION_STATE_CHANGED, &data, after.updated_at)?);
    }
    for m in written {
        let data = events::MessageNew { conversation_id: m.conversation_id, message: events::MessageView::from(m) };
        out.extend(outbox::event(hooks, outbox::MESSAGE_NEW, &data, m.created_at)?.map(|e| e.about(m.id)));
    }
    Ok(out)
}

/// `button_action` or `text_input` to the conversation room.
fn echo(
    after: &conversation::Model,
    t: &Transition,
    action: &str,
    prompt: &Prompt,
    shared: Option<&message::Model>,
) -> Outbound {
    let flow_update = json!({
        "previous_state": t.from.as_str(),
        "new_state": t.to.as_str(),
        "awaiting_role": after.awaiting_role,
    });
    let room = vec![events::conversation_room(after.id)];
    let message = shared.map(events::message_json);
    match prompt {
        Prompt::Button => Outbound::new(
            "button_action",
            room,
            json!({
                "button_id": action,
                "message": message,
                "flow_update": flow_update,
                "conversationId": after.id,
                "conversation_context": events::conversation_context(after),
            }),
        ),
        Prompt::TextInput { input_type } => Outbound::new(
            "text_input",
            room,
            json!({
                "input_type": input_type,
                "message": message,
                "flow_update": flow_update,
                "conversationId": after.id,
            }),
        ),
    }
}

/// The notifications of a transition: `action_required` to whoever a new
/// card waits for, and `conversation_closed` to the other party when the
/// flow closes. Stored in the transition's transaction.
pub fn drafts(
    before: &conversation::Model,
    after: &conversation::Model,
    t: &Transition,
    written: &[message::Model],
    actor: &str,
) -> Vec<Draft> {
    let mut out = vec![];
    // Nobody needs telling about a card they just gave themselves (negotiate → counter-offer).
    if let Some(card) = written.iter().find(|m| m.action_required && m.receiver_id != m.sender_id) {
        let title = card.action_data.as_ref().and_then(|d| d["title"].as_str()).unwrap_or("Your turn").to_string();
        out.push(Draft::new(
            &card.receiver_id,
            notifications::ACTION_REQUIRED,
            title,
            &card.message,
            json!({
                "conversation_id": after.id,
                "message": events::message_json(card),
                "flow_state": after.flow_state,
                "awaiting_role": after.awaiting_role,
                "sender_id": card.sender_id,
            }),
        ));
    }
    if t.cause == Cause::OfferExpired {
        let notice = shared(written);
        for user in [&after.user1_id, &after.user2_id] {
            out.push(Draft::new(
                user,
                notifications::OFFER_EXPIRED,
                "Offer expired",
                notice.map(|m| m.message.as_str()).unwrap_or("The offer expired"),
                json!({
                    "conversation_id": after.id,
                    "message": notice.map(events::message_json).unwrap_or(Value::Null),
                    "flow_state": after.flow_state,
                    "expired_offer": after.flow_data["expired_offers"].as_array().and_then(|o| o.last()),
                }),
            ));
        }
    }
    if t.to == State::ChatClosed && before.flow_state.as_deref() != Some(State::ChatClosed.as_str()) {
        let other = conversations::other_participant(after, actor);
        let notice = shared(written);
        out.push(Draft::new(
            other,
            notifications::CONVERSATION_CLOSED,
            "Conversation closed",
            notice.map(|m| m.message.as_str()).unwrap_or("The conversation was closed"),
            json!({
                "conversation_id": after.id,
                "closed_by": actor,
                "reason": after.flow_data["closure"]["reason"],
                "message": notice.map(events::message_json).unwrap_or(Value::Null),
            }),
        ));
    }
    out
}
