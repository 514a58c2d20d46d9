//! Joining and leaving rooms, each authorised.

use serde_json::{Value, json};
use socketioxide::{
    adapter::Adapter,
    extract::{Event, Extension, SocketRef, State, TryData},
};

use super::reply::{Reply, finish, id_arg};
use crate::{
    domain::{
        collaborations::{self, Source},
        conversations,
        events::{self, Outbound, conversation_room},
        ids::ConversationId,
        presence,
        users::Identity,
    },
    error::AppResult,
    state::AppState,
};

/// `join(userId)`: the user room is joined on connect; this confirms it for
/// clients written against the old server, and refuses anyone else's id.
pub async fn join<A: Adapter>(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result = id_arg(data, &["userId", "user_id"]).and_then(|claimed| {
        who.must_be_self(&[Some(&json!(claimed))])?;
        Ok((json!({ "user_id": who.user_id }), vec![]))
    });
    finish(&app, reply, "join", result, None).await;
}

pub async fn join_conversation<A: Adapter>(
    s: SocketRef<A>,
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result: AppResult<_> = async {
        let id = ConversationId::parse(&id_arg(data, &["conversationId", "conversation_id"])?)?;
        let c = conversations::readable(&app.db, id, &who).await?;
        let room = conversation_room(c.id);
        s.join(room.clone());
        let sid = s.id.to_string();
        let joined = app.presence.join(c.id, &who.user_id, &sid).await;
        let state = app.presence.conversation_state(c.id).await;
        if let Err(e) = s.emit("presence_state", &state) {
            tracing::debug!(error = %e, "presence_state not delivered");
        }
        let mut out = vec![];
        if let Some(meta) = joined {
            out.push(Outbound::new("presence_diff", vec![room], presence::diff(&who.user_id, meta, true)));
        }
        Ok((json!({ "conversation_context": events::conversation_context(&c), "presence": state }), out))
    }
    .await;
    finish(&app, reply, "join_conversation", result, None).await;
}

pub async fn leave_conversation<A: Adapter>(
    s: SocketRef<A>,
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result: AppResult<_> = async {
        let id = ConversationId::parse(&id_arg(data, &["conversationId", "conversation_id"])?)?;
        let room = conversation_room(id);
        s.leave(room.clone());
        let mut out = vec![];
        if let Some(meta) = app.presence.leave(id.0, &who.user_id, &s.id.to_string()).await {
            out.push(Outbound::new("presence_diff", vec![room], presence::diff(&who.user_id, meta, false)));
            out.extend(app.typing.stop(id.0, &who.user_id));
        }
        Ok((json!({}), out))
    }
    .await;
    finish(&app, reply, "leave_conversation", result, None).await;
}

/// `join_bid_room`, `leave_bid_room`, `join_campaign_room` and
/// `leave_campaign_room`: one handler, told apart by the event name.
pub async fn follow<A: Adapter>(
    s: SocketRef<A>,
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    Event(event): Event,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let (event, kind, join): (&'static str, &str, bool) = match event.as_str() {
        "join_bid_room" => ("join_bid_room", "bid", true),
        "leave_bid_room" => ("leave_bid_room", "bid", false),
        "join_campaign_room" => ("join_campaign_room", "campaign", true),
        _ => ("leave_campaign_room", "campaign", false),
    };
    let keys: &[&str] = if kind == "bid" { &["bidId", "bid_id"] } else { &["campaignId", "campaign_id"] };
    let result: AppResult<_> = async {
        let source = Source::parse(kind, &id_arg(data, keys)?)?;
        if join {
            collaborations::may_follow(&app.db, &who, source).await?;
            s.join(source.room());
        } else {
            s.leave(source.room());
        }
        Ok((json!({}), vec![]))
    }
    .await;
    finish(&app, reply, event, result, None).await;
}
