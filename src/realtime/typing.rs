//! Typing indicators, for sockets that joined the conversation.

use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::{
    adapter::Adapter,
    extract::{Extension, SocketRef, State, TryData},
};

use super::reply::{Reply, finish, payload};
use crate::domain::limits::Kind;
use crate::{
    domain::{conversations, events::conversation_room, ids::ConversationId, messages, users::Identity},
    error::{AppError, AppResult},
    state::AppState,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypingPayload {
    #[serde(alias = "conversation_id")]
    conversation_id: String,
    #[serde(alias = "user_id")]
    user_id: Option<Value>,
}

async fn joined_conversation<A: Adapter>(
    app: &AppState,
    s: &SocketRef<A>,
    who: &Identity,
    data: Result<Value, impl std::fmt::Display>,
) -> AppResult<ConversationId> {
    app.limiter.check(Kind::Typing, &who.user_id).await?;
    let p: TypingPayload = payload(data)?;
    who.must_be_self(&[p.user_id.as_ref()])?;
    let id = ConversationId::parse(&p.conversation_id)?;
    if who.is_admin() {
        return Err(AppError::forbidden("Admins may read conversations but not act in them"));
    }
    let room = conversation_room(id);
    if !s.rooms().iter().any(|r| *r == room) {
        return Err(AppError::forbidden("Join the conversation before sending typing indicators"));
    }
    Ok(id)
}

pub async fn typing_start<A: Adapter>(
    s: SocketRef<A>,
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result = async {
        let id = joined_conversation(&app, &s, &who, data).await?;
        // A closed conversation is read only (its chat status never reopens).
        let c = conversations::load(&app.db, id).await?;
        if c.chat_status == "closed" {
            return Err(messages::closed());
        }
        Ok(id)
    }
    .await
    .map(|id| {
        let started = app.typing.start(id.0, &who.user_id);
        let timer = app.clone();
        let user_id = who.user_id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timer.settings.typing_timeout).await;
            if let Some(event) = timer.typing.expire(id.0, &user_id, started.generation) {
                timer.emitter.publish(vec![event]).await;
            }
        });
        (json!({}), started.event.into_iter().collect())
    });
    finish(&app, reply, "typing_start", result, None).await;
}

pub async fn typing_stop<A: Adapter>(
    s: SocketRef<A>,
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result = joined_conversation(&app, &s, &who, data)
        .await
        .map(|id| (json!({}), app.typing.stop(id.0, &who.user_id).into_iter().collect()));
    finish(&app, reply, "typing_stop", result, None).await;
}
