//! What a direct conversation is about: a listing, a booking, an order.
//! `pair` scope keeps one conversation per pair of users and appends each
//! new context to it; `context` scope opens one conversation per (pair,
//! context).

use chrono::{DateTime, Utc};
use entity::{conversation, conversation_context};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

const MAX_TITLE_CHARS: usize = 200;
const MAX_URL_LEN: usize = 2048;

/// A context as a client sends it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContextInput {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A checked context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub kind: String,
    pub id: String,
    pub title: Option<String>,
    pub url: Option<String>,
}

/// One conversation per pair, or per (pair, context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Pair,
    Context,
}

impl Scope {
    pub fn parse(raw: Option<&str>) -> AppResult<Self> {
        match raw.map(str::trim) {
            None | Some("") | Some("pair") => Ok(Self::Pair),
            Some("context") => Ok(Self::Context),
            Some(_) => Err(AppError::invalid_field("scope", "must be pair or context")),
        }
    }
}

fn token(field: &str, raw: &str) -> AppResult<String> {
    let ok = (1..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if ok { Ok(raw.to_string()) } else { Err(AppError::invalid_field(field, "must be 1..64 of A-Z a-z 0-9 _ . : -")) }
}

impl Context {
    pub fn parse(input: &ContextInput) -> AppResult<Self> {
        let kind = token("context.type", input.kind.as_deref().unwrap_or_default())?;
        // An id may arrive as a number; it is kept as its text.
        let id = match &input.id {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let id = token("context.id", &id)?;
        let title = input.title.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        if title.as_ref().is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS) {
            return Err(AppError::invalid_field(
                "context.title",
                format!("must be at most {MAX_TITLE_CHARS} characters"),
            ));
        }
        let url = input.url.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned);
        if let Some(u) = &url {
            let scheme_ok = u.starts_with("https://") || u.starts_with("http://");
            if !scheme_ok || u.len() > MAX_URL_LEN || u.chars().any(char::is_whitespace) {
                return Err(AppError::invalid_field(
                    "context.url",
                    "must be an http or https URL of at most 2048 characters",
                ));
            }
        }
        Ok(Self { kind, id, title, url })
    }

    pub fn json(&self) -> Value {
        json!({ "type": self.kind, "id": self.id, "title": self.title, "url": self.url })
    }

    /// What the inquiry notice names: the title, else "type id".
    pub fn label(&self) -> String {
        self.title.clone().unwrap_or_else(|| format!("{} {}", self.kind, self.id))
    }

    /// Added to a direct pair key for a per-context conversation: a digest,
    /// so the key stays short whatever the ids.
    pub fn key_suffix(&self) -> String {
        let digest = Sha256::digest(format!("{}\u{0}{}", self.kind, self.id).as_bytes());
        format!("#{}", &hex::encode(digest)[..32])
    }
}

/// The latest context of a conversation (or null) and all of them, oldest first.
pub fn views(c: &conversation::Model) -> (Value, Value) {
    let all = c.contexts.clone().filter(Value::is_array).unwrap_or_else(|| json!([]));
    let latest = all.as_array().and_then(|a| a.last()).cloned().unwrap_or(Value::Null);
    (latest, all)
}

/// Records `ctx` on the conversation, in the caller's transaction. Returns
/// the conversation as it now is and whether the context was new to it.
pub async fn attach(
    txn: &impl ConnectionTrait,
    c: conversation::Model,
    ctx: &Context,
    now: DateTime<Utc>,
) -> AppResult<(conversation::Model, bool)> {
    let inserted = conversation_context::Entity::insert(conversation_context::ActiveModel {
        conversation_id: Set(c.id),
        context_type: Set(ctx.kind.clone()),
        context_id: Set(ctx.id.clone()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            conversation_context::Column::ConversationId,
            conversation_context::Column::ContextType,
            conversation_context::Column::ContextId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 0 {
        return Ok((c, false));
    }
    let mut all = c.contexts.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
    all.push(ctx.json());
    let updated = conversation::Entity::update_many()
        .set(conversation::ActiveModel {
            contexts: Set(Some(Value::Array(all))),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(conversation::Column::Id.eq(c.id))
        .exec_with_returning(txn)
        .await?;
    let c = updated.into_iter().next().ok_or_else(|| AppError::not_found("Conversation"))?;
    Ok((c, true))
}

/// The ids of conversations that carried a context of `kind` (and `id`).
pub fn carrying(kind: &str, id: Option<&str>) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::Query;
    let mut q = Query::select();
    q.column(conversation_context::Column::ConversationId)
        .from(conversation_context::Entity)
        .and_where(conversation_context::Column::ContextType.eq(kind));
    if let Some(id) = id {
        q.and_where(conversation_context::Column::ContextId.eq(id));
    }
    q.to_owned()
}
