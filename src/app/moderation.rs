//! Reports by participants, and the flags the automatic rules raise after
//! a message is stored.

use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use crate::{
    domain::{
        conversations,
        ids::{ConversationId, MessageId},
        limits::Limit,
        messages::Sent,
        moderation::flags::{self, NewFlag, Target},
        users::{self, Identity},
    },
    error::{AppError, AppResult},
};

/// `flag_message {messageId, reason, note?}` / `POST /api/messages/:id/flag`.
#[derive(Debug, Deserialize)]
pub struct FlagInput {
    #[serde(default, alias = "messageId")]
    pub message_id: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/users/:id/report {reason, note?, conversation_id?}`.
#[derive(Debug, Deserialize)]
pub struct ReportInput {
    #[serde(alias = "userId")]
    pub user_id: String,
    pub reason: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, alias = "conversationId")]
    pub conversation_id: Option<String>,
}

/// A flag as its reporter sees it, and whether this call created it.
pub struct Reported {
    pub flag: Value,
    pub created: bool,
}

/// A participant reports a message.
pub async fn flag_message(app: &AppState, who: &Identity, input: FlagInput) -> AppResult<Reported> {
    app.spend(Limit::Writes, who).await?;
    let (reason, note) = flags::check_report(&input.reason, input.note.as_deref())?;
    let id = MessageId::required("messageId", &input.message_id)?;
    let now = app.clock.now();
    let m = flags::reportable_message(&app.db, who, id.0, now).await?;
    let new = NewFlag { reporter: Some(who.user_id.clone()), target: Target::Message(Box::new(m)), reason, note };
    raise(app, new).await
}

/// A user reports another user, optionally naming the conversation.
pub async fn report_user(app: &AppState, who: &Identity, input: ReportInput) -> AppResult<Reported> {
    app.spend(Limit::Writes, who).await?;
    let (reason, note) = flags::check_report(&input.reason, input.note.as_deref())?;
    let target = input.user_id.trim();
    if !users::is_valid_user_id(target) || users::find(&app.db, target).await?.is_none() {
        return Err(AppError::not_found("User"));
    }
    if target == who.user_id {
        return Err(AppError::invalid_field("user_id", "you cannot report yourself"));
    }
    let conversation_id = match input.conversation_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let c = conversations::readable(&app.db, ConversationId::parse(raw)?, who).await?;
            if conversations::participant(&c, target).is_none() {
                return Err(AppError::invalid_field("conversation_id", "the reported user is not in it"));
            }
            Some(c.id)
        }
    };
    let new = NewFlag {
        reporter: Some(who.user_id.clone()),
        target: Target::User { user_id: target.to_string(), conversation_id },
        reason,
        note,
    };
    raise(app, new).await
}

async fn raise(app: &AppState, new: NewFlag) -> AppResult<Reported> {
    let txn = crate::db::begin_write(&app.db).await?;
    let (flag, created) = flags::raise(&txn, &app.webhooks, new, app.clock.now()).await?;
    txn.commit().await?;
    if created {
        app.metrics.flags_raised.inc();
        app.emitter.nudge();
    }
    Ok(Reported { flag: flags::summary(&flag), created })
}

/// After a message is stored: the rules' findings become system flags (the
/// message is already delivered; a failure here is logged, not the sender's).
pub async fn after_send(app: &AppState, sent: &Sent) {
    let mut raised = vec![];
    if let Some(entry) = &sent.findings.blocklisted {
        raised.push(NewFlag {
            reporter: None,
            target: Target::Message(Box::new(sent.message.clone())),
            reason: "abuse".into(),
            note: Some(format!("blocklist: {entry}")),
        });
    }
    if sent.findings.repeated {
        raised.push(NewFlag {
            reporter: None,
            target: Target::User { user_id: sent.message.sender_id.clone(), conversation_id: None },
            reason: "spam".into(),
            note: Some("the same text sent into several conversations within 10 minutes".into()),
        });
    }
    for new in raised {
        if let Err(e) = raise(app, new).await {
            e.log_and_drop("raising a moderation flag");
        }
    }
}
