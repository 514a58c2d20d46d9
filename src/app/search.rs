//! `GET /api/messages/search`: the caller's messages that match a query.

use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use crate::{
    domain::{
        conversations,
        events::message_json,
        ids::ConversationId,
        pagination::Page,
        search::{self, Search},
        users::{self, Identity},
    },
    error::AppResult,
};

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    pub conversation_id: Option<String>,
    pub page: Option<String>,
    pub limit: Option<String>,
}

pub struct Found {
    pub results: Vec<Value>,
    pub pagination: Value,
}

pub async fn search(app: &AppState, who: &Identity, q: SearchQuery) -> AppResult<Found> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 20)?;
    let terms = search::terms(&q.q)?;
    let conversation_id = match q.conversation_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Some(conversations::readable(&app.db, ConversationId::parse(id)?, who).await?.id),
        None => None,
    };
    let s = Search { who, terms, conversation_id, page, now: app.clock.now() };
    let (hits, total) = search::search(&app.db, &s).await?;
    let others: Vec<String> =
        hits.iter().map(|h| conversations::other_participant(&h.conversation, &who.user_id).to_string()).collect();
    let profiles: std::collections::HashMap<String, entity::user::Model> =
        users::find_many(&app.db, others.clone()).await?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let mut results = Vec::with_capacity(hits.len());
    for (h, other) in hits.iter().zip(others) {
        let online = app.presence.is_online(&other).await;
        results.push(json!({
            "message": message_json(&h.message),
            "conversation_id": h.conversation.id,
            "conversation_type": h.conversation.conversation_type,
            "other_user": users::public_profile(&other, profiles.get(&other), online),
            "highlight": h.highlight,
        }));
    }
    Ok(Found { results, pagination: page.json(total) })
}
