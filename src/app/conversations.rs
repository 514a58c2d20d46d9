//! The caller's conversations: the list, one conversation's context, and
//! direct conversations.

use entity::conversation;
use serde::Deserialize;
use serde_json::Value;

use super::{AppState, Listed};
use crate::{
    domain::{
        contexts::{Context, ContextInput, Scope},
        conversations,
        events::message_json,
        ids::ConversationId,
        inbox,
        limits::Limit,
        messages::Draft,
        names::ConversationType,
        pagination::Page,
        users::{self, Identity},
        validate,
    },
    error::{AppError, AppResult},
};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `true`: the caller's archived conversations only.
    pub archived: Option<String>,
    pub context_type: Option<String>,
    pub context_id: Option<String>,
}

/// The caller's conversations, newest activity first.
pub async fn list(app: &AppState, who: &Identity, q: ListQuery) -> AppResult<Listed> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned);
    let archived = match text(&q.archived).as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => return Err(AppError::invalid_field("archived", "must be true or false")),
    };
    let filter = inbox::Filter {
        kind: text(&q.kind),
        archived,
        context_type: text(&q.context_type),
        context_id: text(&q.context_id),
    };
    let (items, total) = inbox::list(&app.db, &app.presence, who, page, filter, app.clock.now()).await?;
    Ok(Listed { items, pagination: page.json(total) })
}

/// The caller's direct conversations.
pub async fn direct_connections(app: &AppState, who: &Identity, q: ListQuery) -> AppResult<Listed> {
    list(app, who, ListQuery { kind: Some(ConversationType::Direct.as_str().into()), ..q }).await
}

/// What a client needs to render one conversation.
pub async fn context(app: &AppState, who: &Identity, conversation_id: &str) -> AppResult<Value> {
    inbox::context(&app.db, &app.presence, who, ConversationId::parse(conversation_id)?, app.clock.now()).await
}

#[derive(Debug, Deserialize)]
pub struct DirectConnectInput {
    pub target_user_id: String,
    #[serde(default)]
    pub initial_message: Option<String>,
    /// What the conversation is about (a listing, a booking).
    #[serde(default)]
    pub context: Option<ContextInput>,
    /// `pair` (default) or `context`.
    #[serde(default)]
    pub scope: Option<String>,
}

pub struct Connected {
    pub conversation: conversation::Model,
    pub created: bool,
    pub message: Option<Value>,
}

/// Finds or opens the caller's direct conversation with another user (one
/// per pair), sending the initial message when one is given.
pub async fn direct_connect(app: &AppState, who: &Identity, input: DirectConnectInput) -> AppResult<Connected> {
    app.spend(Limit::Writes, who).await?;
    let target = input.target_user_id.trim();
    if target == app.settings.system_user_id {
        return Err(AppError::invalid_field("target_user_id", "is the system user, which takes no conversations"));
    }
    let target = validate::user_id("target_user_id", target)?;
    if target == who.user_id {
        return Err(AppError::invalid_field("target_user_id", "cannot start a conversation with yourself"));
    }
    let scope = Scope::parse(input.scope.as_deref())?;
    let context = input.context.as_ref().map(Context::parse).transpose()?;
    if scope == Scope::Context && context.is_none() {
        return Err(AppError::invalid_field("context", "is required with scope context"));
    }
    let now = app.clock.now();
    users::ensure_exists(&app.db, &target, now).await?;
    let about = context.as_ref().map(|c| (c, scope));
    let opened = conversations::open_direct(&app.db, &app.webhooks, &who.user_id, &target, about, now).await?;
    let (mut conversation, created) = (opened.conversation, opened.created);
    if let (Some(ctx), true) = (&context, opened.new_context) {
        // The inquiry notice comes before the message that asks it.
        let notice = crate::domain::messages::system::Notice {
            system_user_id: &app.settings.system_user_id,
            text: format!("Inquiry about {}", ctx.label()),
            action_data: Some(serde_json::json!({ "type": "context", "context": ctx.json() })),
            action_required: false,
            idempotency_key: None,
            track_emits: app.redis.is_some(),
        };
        let posted = crate::domain::messages::system::post(&app.db, &app.webhooks, &conversation, notice, now).await?;
        app.emitter.publish(posted.events).await;
    }
    let mut message = None;
    if let Some(text) = input.initial_message.filter(|t| !t.trim().is_empty()) {
        let draft = Draft {
            conversation_id: ConversationId(conversation.id),
            text,
            media_url: None,
            client_message_id: None,
            expires_in: None,
            reply_to: None,
        };
        let sent = super::messages::deliver(app, who, draft).await?;
        message = Some(message_json(&sent.message));
        conversation = sent.conversation;
    }
    Ok(Connected { conversation, created, message })
}

/// One conversation as `user_id`'s list shows it, in the older protocol's
/// `conversations:upsert` shape; none when the user takes no part in it.
pub async fn summary(app: &AppState, user_id: &str, id: uuid::Uuid) -> AppResult<Option<Value>> {
    let c = conversations::load(&app.db, ConversationId(id)).await?;
    if conversations::participant(&c, user_id).is_none() {
        return Ok(None);
    }
    let reader = Identity {
        user_id: user_id.to_string(),
        role: users::Role::Other(String::new()),
        name: None,
        email: None,
        phone: None,
    };
    let updated_at = crate::domain::clock::rfc3339(&c.updated_at.max(c.last_message_at));
    let Some(row) = inbox::summaries(&app.db, &app.presence, &reader, vec![c], app.clock.now()).await?.pop() else {
        return Ok(None);
    };
    Ok(Some(serde_json::json!({
        "conversation_id": row["id"],
        "updated_at": updated_at,
        "created_at": row["created_at"],
        "chat_status": row["chat_status"],
        "flow_state": row["flow_state"],
        "awaiting_role": row["awaiting_role"],
        "unread_count": row["unread_count"],
        "other_user": row["other_user"],
        "last_message": row["last_message"],
    })))
}

/// `PUT /api/messages/conversations/:id/settings {message_ttl_seconds}`.
#[derive(Debug, Deserialize)]
pub struct SettingsInput {
    /// `null` turns disappearing messages off.
    pub message_ttl_seconds: Option<i64>,
}

pub struct SettingsChanged {
    pub conversation: conversation::Model,
    /// The system notice that records the change.
    pub notice: Value,
}

/// Either participant sets how long later messages live; a system notice
/// tells both.
pub async fn set_message_ttl(
    app: &AppState,
    who: &Identity,
    conversation_id: &str,
    input: SettingsInput,
) -> AppResult<SettingsChanged> {
    app.spend(Limit::Writes, who).await?;
    let (c, _) = conversations::writable(&app.db, ConversationId::parse(conversation_id)?, who).await?;
    let ttl = input
        .message_ttl_seconds
        .map(|s| crate::domain::expiry::ttl("message_ttl_seconds", s, app.settings.time_rules.message_ttl_min))
        .transpose()?;
    let now = app.clock.now();
    let c = conversations::set_message_ttl(&app.db, &c, ttl, now).await?;
    app.writer.forget(c.id);
    let who_name = who.name.clone().unwrap_or_else(|| who.user_id.clone());
    let text = match ttl {
        Some(s) => format!("{who_name} turned on disappearing messages: new messages disappear after {}", lifetime(s)),
        None => format!("{who_name} turned off disappearing messages"),
    };
    let notice = crate::domain::messages::system::Notice {
        system_user_id: &app.settings.system_user_id,
        text,
        action_data: Some(
            serde_json::json!({ "type": "message_ttl", "message_ttl_seconds": ttl, "set_by": who.user_id }),
        ),
        action_required: false,
        idempotency_key: None,
        track_emits: app.redis.is_some(),
    };
    let posted = crate::domain::messages::system::post(&app.db, &app.webhooks, &c, notice, now).await?;
    app.emitter.publish(posted.events).await;
    Ok(SettingsChanged { conversation: c, notice: message_json(&posted.message) })
}

/// "1 hour", "2 days", "90 minutes".
fn lifetime(seconds: i64) -> String {
    let (n, unit) = if seconds % 86_400 == 0 {
        (seconds / 86_400, "day")
    } else if seconds % 3_600 == 0 {
        (seconds / 3_600, "hour")
    } else if seconds % 60 == 0 {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A per-user setting of one conversation, from its REST route.
#[derive(Clone, Copy, Debug)]
pub enum SettingChange {
    Archive,
    Unarchive,
    Mute,
    Unmute,
}

/// `POST .../mute {until?}`.
#[derive(Debug, Default, Deserialize)]
pub struct MuteInput {
    #[serde(default)]
    pub until: Option<String>,
}

/// Archives, unarchives, mutes or unmutes a conversation for the caller
/// alone; the caller's other devices hear of it. Answers
/// `{conversation_id, archived, muted_until}`.
pub async fn change_setting(
    app: &AppState,
    who: &Identity,
    conversation_id: &str,
    change: SettingChange,
    input: MuteInput,
) -> AppResult<Value> {
    use crate::domain::settings::{self, Change};
    app.spend(Limit::Writes, who).await?;
    let c = conversations::load(&app.db, ConversationId::parse(conversation_id)?).await?;
    conversations::may_act(&c, who)?;
    let now = app.clock.now();
    let change = match change {
        SettingChange::Archive => Change::Archive(true),
        SettingChange::Unarchive => Change::Archive(false),
        SettingChange::Unmute => Change::Mute(None),
        SettingChange::Mute => {
            Change::Mute(Some(match input.until.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                None => entity::unread_count::forever(),
                Some(raw) => {
                    let until = chrono::DateTime::parse_from_rfc3339(raw)
                        .map_err(|_| AppError::invalid_field("until", "must be an RFC 3339 time"))?
                        .with_timezone(&chrono::Utc);
                    if until <= now {
                        return Err(AppError::invalid_field("until", "must be in the future"));
                    }
                    until.min(entity::unread_count::forever())
                }
            }))
        }
    };
    let now_set = settings::change(&app.db, &who.user_id, c.id, change).await?;
    app.emitter.publish(vec![settings::updated_event(&who.user_id, c.id, &now_set, now)]).await;
    let mut body = now_set.json(now);
    body["conversation_id"] = serde_json::json!(c.id);
    Ok(body)
}

/// A one-to-one conversation cannot be left.
pub fn leave() -> AppError {
    AppError::validation(
        "A one-to-one conversation cannot be left; archive it instead",
        serde_json::json!({ "conversation": "a one-to-one conversation cannot be left; archive it instead" }),
    )
}
