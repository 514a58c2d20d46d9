//! The offline email scheduler. Every node runs one; it sleeps on the
//! server's clock until the earliest waiting burst is `EMAIL_DELAY_MS` old
//! (tests move the clock instead of waiting), claims each due (user,
//! conversation), checks that the user still has had no socket since the
//! burst began, and sends one email listing the unread messages.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{bid, campaign, notification};
use parley_outbound::mail::{
    DigestConversation, DigestMessage, MAX_LISTED, OfflineDigest, Recipient, render_digest, unsubscribe,
};
use sea_orm::EntityTrait;
use uuid::Uuid;

use super::super::AppState;
use crate::{
    domain::{
        conversations,
        ids::ConversationId,
        reach::{self, email, preferences},
        users,
    },
    error::{AppError, AppResult, ErrorCode},
};

/// The longest the scheduler sleeps without looking.
const AT_LEAST_EVERY: Duration = Duration::from_secs(60);
/// How soon to look again at a due burst this node could not take.
const OVERDUE_POLL: Duration = Duration::from_secs(5);
/// Due (user, conversation) pairs handled per round.
const PER_ROUND: u64 = 100;
/// How long a node holds a claim: longer than one SMTP exchange may take.
const LEASE: Duration = Duration::from_secs(90);
/// After a failure that may pass (SMTP down), when to try again.
const RETRY_AFTER: Duration = Duration::from_secs(60);

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_default()
}

/// Runs for the life of the server when email is configured.
pub async fn keep(app: AppState) {
    loop {
        let now = app.clock.now();
        let handled = round(&app, now).await;
        if handled == PER_ROUND as usize {
            continue;
        }
        let delay = app.reach.delay;
        let next = email::earliest(&app.db).await.unwrap_or_else(|e| {
            e.log_and_drop("reading when the next offline email is due");
            None
        });
        // A burst that starts while asleep is due a delay later at the soonest.
        let cap = now + chrono(AT_LEAST_EVERY.min(delay).max(Duration::from_millis(100)));
        let until = match next.map(|t| t + chrono(delay)) {
            // Due but not taken: another node holds it, or it waits to be
            // tried again. Look again a little later, not at once.
            Some(due) if due <= now => now + chrono(OVERDUE_POLL.min(delay).max(Duration::from_millis(100))),
            Some(due) => due.min(cap),
            None => cap,
        };
        app.clock.sleep_until(until).await;
    }
}

/// Handles the due pairs; returns how many this node took.
async fn round(app: &AppState, now: DateTime<Utc>) -> usize {
    let due = match email::due(&app.db, now - chrono(app.reach.delay), PER_ROUND).await {
        Ok(due) => due,
        Err(e) => {
            e.log_and_drop("finding offline emails that are due");
            return 0;
        }
    };
    let mut taken = 0;
    for (user, conversation) in due {
        match email::claim(&app.db, &user, conversation, &app.reach.node, now, now + chrono(LEASE)).await {
            Ok(true) => taken += 1,
            Ok(false) => continue,
            Err(e) => {
                e.log_and_drop("claiming an offline email");
                continue;
            }
        }
        let (sent, release_at) = match one(app, &user, conversation).await {
            Ok(sent) => (sent, app.clock.now()),
            Err(e) => {
                e.log_and_drop("sending an offline email");
                (false, app.clock.now() + chrono(RETRY_AFTER))
            }
        };
        if let Err(e) = email::release(&app.db, &user, conversation, &app.reach.node, release_at, sent).await {
            e.log_and_drop("releasing an offline email claim");
        }
    }
    taken
}

/// Why a waiting burst gets no email.
fn skip(why: &'static str) -> Option<&'static str> {
    Some(why)
}

/// Sends the email of one claimed (user, conversation), or settles its
/// burst without one. True when an email went out.
async fn one(app: &AppState, user_id: &str, conversation: Uuid) -> AppResult<bool> {
    let read_at = app.clock.now();
    let waiting = email::waiting(&app.db, user_id, conversation).await?;
    let Some(since) = waiting.first().and_then(|n| n.email_since) else { return Ok(false) };
    if since > read_at - chrono(app.reach.delay) {
        // Another node settled the burst and a new one began since.
        return Ok(false);
    }
    let ids: Vec<Uuid> = waiting.iter().map(|n| n.id).collect();
    let user = users::find(&app.db, user_id).await?;
    let address = user.as_ref().and_then(|u| u.email.clone()).filter(|e| !e.trim().is_empty());
    let reason = if app.presence.is_online(user_id).await {
        skip("connected")
    } else if user.as_ref().and_then(|u| u.last_seen_at).is_some_and(|seen| seen >= since) {
        skip("connected since")
    } else if address.is_none() {
        skip("no email claim")
    } else if !preferences::get(&app.db, user_id).await?.email_notifications {
        skip("preference off")
    } else if reach::muted(&app.db, user_id, conversation).await? {
        skip("muted")
    } else {
        None
    };
    if let Some(why) = reason {
        tracing::debug!(why, "offline email not sent");
        email::settle(&app.db, ids, read_at).await?;
        return Ok(false);
    }
    let name = user.as_ref().and_then(|u| u.name.clone()).unwrap_or_else(|| user_id.to_string());
    let recipient = Recipient { name, email: address.unwrap_or_default() };
    let digest = match compose(app, user_id, conversation, recipient, &waiting).await {
        Ok(digest) => digest,
        Err(e) if e.code == ErrorCode::NotFound => {
            // The conversation is gone: nothing to tell, and nothing to try again.
            email::settle(&app.db, ids, read_at).await?;
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let Some(mailer) = &app.reach.mailer else { return Ok(false) };
    let message = render_digest(&digest, &app.reach.site).map_err(AppError::internal)?;
    match mailer.send(&message).await {
        Ok(()) => {
            email::settle(&app.db, ids, read_at).await?;
            app.metrics.count_offline("smtp", "sent");
            let waited = (app.clock.now() - since).to_std().unwrap_or_default();
            app.metrics.email_delay_seconds.observe(waited.as_secs_f64());
            tracing::info!(waited_ms = waited.as_millis() as u64, "offline email sent");
            Ok(true)
        }
        Err(e) if e.is_transient() => {
            app.metrics.count_offline("smtp", "failed");
            Err(AppError::internal(anyhow::anyhow!("{e}")))
        }
        Err(e) => {
            // Refused for good (a bad address): this burst gets no email.
            app.metrics.count_offline("smtp", "failed");
            tracing::warn!(error = %e, "offline email refused");
            email::settle(&app.db, ids, read_at).await?;
            Ok(false)
        }
    }
}

/// The digest: who the conversation is with, what it is about, and the
/// unread messages (or, when none is left, what the notifications said).
async fn compose(
    app: &AppState,
    user_id: &str,
    conversation: Uuid,
    recipient: Recipient,
    waiting: &[notification::Model],
) -> AppResult<OfflineDigest> {
    let now = app.clock.now();
    let c = conversations::load(&app.db, ConversationId(conversation)).await?;
    let other_id = conversations::other_participant(&c, user_id).to_string();
    let (messages, total) = email::unread_messages(&app.db, user_id, conversation, now, MAX_LISTED as u64).await?;
    let mut ids: Vec<String> = messages.iter().map(|m| m.sender_id.clone()).collect();
    ids.push(other_id.clone());
    ids.sort();
    ids.dedup();
    let people = users::find_many(&app.db, ids).await?;
    let name_of = |id: &str| {
        if id == app.settings.system_user_id {
            return app.reach.site.name.clone();
        }
        people.iter().find(|u| u.id == id).and_then(|u| u.name.clone()).unwrap_or_else(|| id.to_string())
    };
    let about = match (c.campaign_id, c.bid_id) {
        (Some(id), _) => campaign::Entity::find_by_id(id).one(&app.db).await?.map(|x| x.title),
        (None, Some(id)) => bid::Entity::find_by_id(id).one(&app.db).await?.map(|x| x.title),
        _ => None,
    };
    let (listed, unread_total) = if messages.is_empty() {
        let listed: Vec<DigestMessage> = waiting
            .iter()
            .map(|n| DigestMessage { sender_name: n.title.clone(), sent_at: n.updated_at, text: n.body.clone() })
            .collect();
        let n = listed.len() as u64;
        (listed, n)
    } else {
        let listed = messages
            .iter()
            .map(|m| DigestMessage {
                sender_name: name_of(&m.sender_id),
                sent_at: m.created_at,
                text: if m.message.trim().is_empty() && m.media_url.is_some() {
                    "Sent an attachment".to_string()
                } else {
                    m.message.clone()
                },
            })
            .collect();
        (listed, total)
    };
    Ok(OfflineDigest {
        recipient,
        conversation: DigestConversation { id: conversation.to_string(), other_party: name_of(&other_id), about },
        messages: listed,
        unread_total,
        unsubscribe_token: unsubscribe::token(&app.reach.unsubscribe_secret, user_id),
    })
}
