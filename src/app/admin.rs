//! What administrators do: bans, the flag queue and its resolutions, the
//! analytics and the audit log. Every action is written to the audit log in
//! the transaction that does it.

use chrono::{DateTime, Utc};
use entity::{flag, user_ban};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppState, Listed, StatusQuery};
use crate::{
    domain::{
        clock,
        events::message_json,
        limits::Limit,
        messages,
        moderation::{
            analytics, audit,
            bans::{self},
            flags::{self, OPEN, RESOLVED, SYSTEM},
        },
        pagination::Page,
        users::{self, Identity},
    },
    error::{AppError, AppResult},
};

/// Messages shown before and after a flagged one.
const CONTEXT: u64 = 5;

/// `POST /api/admin/users/:id/ban {reason, until?}`.
#[derive(Debug, Deserialize)]
pub struct BanInput {
    pub reason: String,
    /// RFC 3339; absent: until unbanned.
    #[serde(default)]
    pub until: Option<String>,
}

/// Bans a user: their sockets on every node get `banned` and are closed.
pub async fn ban(app: &AppState, admin: &Identity, user_id: &str, input: BanInput) -> AppResult<Value> {
    app.spend(Limit::Writes, admin).await?;
    let user_id = known_user(app, user_id).await?;
    if user_id == admin.user_id {
        return Err(AppError::invalid_field("user_id", "you cannot ban yourself"));
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::invalid_field("reason", "must be 1..1000 characters"));
    }
    let now = app.clock.now();
    let until = match input.until.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(parse_future(raw, now)?),
    };
    let txn = crate::db::begin_write(&app.db).await?;
    let row = user_ban::Model {
        user_id: user_id.clone(),
        reason: reason.to_string(),
        until,
        banned_by: admin.user_id.clone(),
        created_at: now,
    };
    let (ban, events) = bans::ban(&txn, &app.webhooks, row).await?;
    let details = json!({ "reason": ban.reason, "until": ban.until.as_ref().map(clock::rfc3339) });
    log(&txn, admin, "ban_user", "user", user_id, Some(details), now).await?;
    txn.commit().await?;
    app.metrics.bans.inc();
    app.emitter.publish(events).await;
    Ok(bans::ban_json(&ban))
}

/// Lifts a ban; `banned: false` either way.
pub async fn unban(app: &AppState, admin: &Identity, user_id: &str) -> AppResult<Value> {
    app.spend(Limit::Writes, admin).await?;
    let user_id = known_user(app, user_id).await?;
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let lifted = bans::unban(&txn, &user_id).await?;
    log(&txn, admin, "unban_user", "user", user_id.clone(), Some(json!({ "was_banned": lifted })), now).await?;
    txn.commit().await?;
    app.emitter.nudge();
    Ok(json!({ "user_id": user_id, "banned": false, "was_banned": lifted }))
}

/// The flag queue, newest first, each flag with its target and context.
/// `GET /api/admin/flags?status&page&limit` (`status` open, the default, or resolved).
pub async fn flags(app: &AppState, _admin: &Identity, q: StatusQuery) -> AppResult<Listed> {
    let (page, status) = q.parse(&[OPEN, RESOLVED])?;
    let status = status.unwrap_or(OPEN);
    let (rows, total) = flags::list(&app.db, status, page).await?;
    let mut items = Vec::with_capacity(rows.len());
    for f in &rows {
        items.push(admin_view(app, f).await?);
    }
    Ok(Listed { items, pagination: page.json(total) })
}

/// A flag as the queue shows it: reporter, target (a message with its
/// original text and edit history, or a user), the surrounding messages.
async fn admin_view(app: &AppState, f: &flag::Model) -> AppResult<Value> {
    let mut view = flags::summary(f);
    view["reporter"] = match &f.reporter_id {
        None => json!(SYSTEM),
        Some(id) => profile(app, id).await?,
    };
    let (target, context) = match f.message_id {
        Some(id) => match flags::message(&app.db, id).await? {
            Some(m) => {
                let mut shown = message_json(&m);
                shown["original_message"] = json!(m.original_message.as_deref().unwrap_or(&m.message));
                shown["edit_history"] = json!(messages::edit_history(&app.db, m.id).await?);
                let around = flags::context(&app.db, &m, CONTEXT).await?;
                (json!({ "message": shown }), around.iter().map(message_json).collect::<Vec<_>>())
            }
            // Gone since (expired): the flag still names it.
            None => (json!({ "message": null, "message_id": id }), vec![]),
        },
        None => (json!({ "user": profile(app, &f.target_user_id).await? }), vec![]),
    };
    view["target"] = target;
    view["target"]["user"] = profile(app, &f.target_user_id).await?;
    view["context"] = json!(context);
    Ok(view)
}

async fn profile(app: &AppState, user_id: &str) -> AppResult<Value> {
    let row = users::find(&app.db, user_id).await?;
    let mut p = users::public_profile(user_id, row.as_ref(), app.presence.is_online(user_id).await);
    let ban = bans::active(&app.db, user_id, app.clock.now()).await?;
    p["banned"] = json!(ban.is_some());
    p["ban"] = ban.as_ref().map(bans::ban_json).unwrap_or(Value::Null);
    Ok(p)
}

/// `POST /api/admin/flags/:id/resolve {action, note?}`.
#[derive(Debug, Deserialize)]
pub struct ResolveInput {
    pub action: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Resolves an open flag. `ban_user` bans through [`ban`]; `delete_message`
/// soft-deletes through the message operations (the same as `DELETE
/// /api/messages/:id` by an admin); `dismiss` only closes the flag.
pub async fn resolve(app: &AppState, admin: &Identity, flag_id: &str, input: ResolveInput) -> AppResult<Value> {
    app.spend(Limit::Writes, admin).await?;
    let id = Uuid::parse_str(flag_id.trim()).map_err(|_| AppError::not_found("Flag"))?;
    let f = flags::find(&app.db, id).await?;
    if f.status != OPEN {
        return Err(AppError::validation("This flag is already resolved", json!({ "flag": "already resolved" })));
    }
    let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::invalid_field("note", "must be at most 1000 characters"));
    }
    let action = input.action.trim();
    match action {
        "dismiss" => {}
        "ban_user" => {
            let reason = note.clone().unwrap_or_else(|| format!("flag {}: {}", f.id, f.reason));
            ban(app, admin, &f.target_user_id, BanInput { reason, until: None }).await?;
        }
        "delete_message" => {
            let Some(message_id) = f.message_id else {
                return Err(AppError::invalid_field("action", "this flag is about a user, not a message"));
            };
            super::messages::delete(app, admin, &message_id.to_string()).await?;
            let details = Some(json!({ "flag_id": f.id }));
            let now = app.clock.now();
            log(&app.db, admin, "delete_message", "message", message_id.to_string(), details, now).await?;
        }
        _ => return Err(AppError::invalid_field("action", "must be dismiss, delete_message or ban_user")),
    }
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let resolved = flags::resolve(&txn, &f, action, note.clone(), &admin.user_id, now).await?;
    log(&txn, admin, "resolve_flag", "flag", f.id.to_string(), Some(json!({ "action": action, "note": note })), now)
        .await?;
    txn.commit().await?;
    app.emitter.nudge();
    Ok(flags::summary(&resolved))
}

/// `GET /api/admin/analytics?from&to`.
#[derive(Debug, Default, Deserialize)]
pub struct AnalyticsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn analytics(app: &AppState, _admin: &Identity, q: AnalyticsQuery) -> AppResult<Value> {
    let today = app.clock.now().date_naive();
    let range = analytics::Range::parse(q.from.as_deref(), q.to.as_deref(), today)?;
    analytics::report(&app.db, range).await
}

/// `GET /api/admin/audit?page&limit`.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
}

pub async fn audit_log(app: &AppState, _admin: &Identity, q: AuditQuery) -> AppResult<Listed> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let (items, total) = audit::list(&app.db, page).await?;
    Ok(Listed { items, pagination: page.json(total) })
}

/// Logs an admin action in the transaction that does it.
pub(super) async fn log(
    db: &impl sea_orm::ConnectionTrait,
    admin: &Identity,
    action: &str,
    target_type: &str,
    target_id: String,
    details: Option<Value>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let entry = audit::Entry { admin_id: &admin.user_id, action, target_type, target_id, details };
    audit::record(db, entry, now).await
}

async fn known_user(app: &AppState, user_id: &str) -> AppResult<String> {
    let id = user_id.trim();
    if !users::is_valid_user_id(id) || users::find(&app.db, id).await?.is_none() {
        return Err(AppError::not_found("User"));
    }
    Ok(id.to_string())
}

fn parse_future(raw: &str, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| AppError::invalid_field("until", "must be an RFC 3339 time"))?
        .with_timezone(&Utc);
    if t <= now {
        return Err(AppError::invalid_field("until", "must be in the future"));
    }
    Ok(t)
}
