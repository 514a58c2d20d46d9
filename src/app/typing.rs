//! Typing indicators, for connections that joined the conversation; a start
//! that is not stopped ends by itself after the typing timeout.

use serde::Deserialize;

use super::{AppState, Connection};
use crate::{
    domain::{
        conversations,
        events::conversation_room,
        ids::ConversationId,
        limits::Limit,
        users::{Claimed, Identity},
    },
    error::{AppError, AppResult},
};

/// `typing_start` / `typing_stop {conversationId}`.
#[derive(Debug, Deserialize)]
pub struct TypingInput {
    #[serde(alias = "conversationId")]
    pub conversation_id: String,
    #[serde(flatten)]
    pub claimed: Claimed,
}

/// The conversation a typing event is about, once the caller may type there.
async fn typing_in(
    app: &AppState,
    who: &Identity,
    conn: &dyn Connection,
    input: &TypingInput,
) -> AppResult<ConversationId> {
    app.spend(Limit::Typing, who).await?;
    input.claimed.check(who)?;
    let id = ConversationId::parse(&input.conversation_id)?;
    if who.is_admin() {
        return Err(conversations::admins_do_not_act());
    }
    if !conn.has_joined(&conversation_room(id)) {
        return Err(AppError::forbidden("Join the conversation before sending typing indicators"));
    }
    Ok(id)
}

pub async fn start(app: &AppState, who: &Identity, conn: &dyn Connection, input: TypingInput) -> AppResult<()> {
    let id = typing_in(app, who, conn, &input).await?;
    // A closed conversation is read only (its chat status never reopens).
    let c = conversations::load(&app.db, id).await?;
    if conversations::is_closed(&c) {
        return Err(AppError::closed());
    }
    let started = app.typing.start(id.0, &who.user_id);
    let timer = app.clone();
    let user_id = who.user_id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(timer.settings.typing_timeout).await;
        if let Some(event) = timer.typing.expire(id.0, &user_id, started.generation) {
            timer.emitter.publish(vec![event]).await;
        }
    });
    app.emitter.publish(started.event.into_iter().collect()).await;
    Ok(())
}

pub async fn stop(app: &AppState, who: &Identity, conn: &dyn Connection, input: TypingInput) -> AppResult<()> {
    let id = typing_in(app, who, conn, &input).await?;
    app.emitter.publish(app.typing.stop(id.0, &who.user_id).into_iter().collect()).await;
    Ok(())
}
