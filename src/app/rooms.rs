//! Joining and leaving rooms, each authorised: the user's own room,
//! conversations (with their presence), bids and campaigns.

use serde_json::{Value, json};

use super::{AppState, Connection};
use crate::{
    domain::{
        collaborations::{self, Source},
        conversations,
        events::{self, Outbound, conversation_room},
        ids::ConversationId,
        names::SourceKind,
        presence,
        users::Identity,
    },
    error::AppResult,
};

/// `join(userId)`: the user room is joined on connect; this confirms it for
/// clients written against the old server, and refuses anyone else's id.
pub fn confirm_user_room(who: &Identity, claimed: &str) -> AppResult<()> {
    who.must_be_self(&[Some(&json!(claimed))])
}

pub struct Joined {
    pub conversation_context: Value,
    pub presence: Value,
}

/// Joins a conversation's room (participants and admins; idempotent), sends
/// the connection the room's presence and tells the room it arrived.
pub async fn join_conversation(
    app: &AppState,
    who: &Identity,
    conn: &dyn Connection,
    conversation_id: &str,
) -> AppResult<Joined> {
    let c = conversations::readable(&app.db, ConversationId::parse(conversation_id)?, who).await?;
    let room = conversation_room(c.id);
    conn.join(room.clone());
    let joined = app.presence.join(c.id, &who.user_id, &conn.id()).await;
    let state = app.presence.conversation_state(c.id).await;
    conn.push("presence_state", &state);
    if let Some(meta) = joined {
        let diff = Outbound::new("presence_diff", vec![room], presence::diff(&who.user_id, meta, true));
        app.emitter.publish(vec![diff]).await;
    }
    Ok(Joined { conversation_context: events::conversation_context(&c), presence: state })
}

/// Leaves a conversation's room; the room hears it left, and its typing ends.
pub async fn leave_conversation(
    app: &AppState,
    who: &Identity,
    conn: &dyn Connection,
    conversation_id: &str,
) -> AppResult<()> {
    let id = ConversationId::parse(conversation_id)?;
    let room = conversation_room(id);
    conn.leave(room.clone());
    if let Some(meta) = app.presence.leave(id.0, &who.user_id, &conn.id()).await {
        let mut events = vec![Outbound::new("presence_diff", vec![room], presence::diff(&who.user_id, meta, false))];
        events.extend(app.typing.stop(id.0, &who.user_id));
        app.emitter.publish(events).await;
    }
    Ok(())
}

/// Joins (or leaves) a bid's or campaign's room: its owner, applicants,
/// participants of its conversations and admins may join.
pub async fn follow(
    app: &AppState,
    who: &Identity,
    conn: &dyn Connection,
    kind: SourceKind,
    id: &str,
    join: bool,
) -> AppResult<()> {
    let source = Source::parse(kind, id)?;
    if join {
        collaborations::may_follow(&app.db, who, source).await?;
        conn.join(source.room());
    } else {
        conn.leave(source.room());
    }
    Ok(())
}
