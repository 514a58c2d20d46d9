//! Push: every notification created for a user with no socket connected on
//! any node goes to each of their devices, with the unread total as the
//! badge. The emitter hands over the notices of what it published, after
//! commit; the node that made the notification pushes it, once.

use parley_outbound::push::{PushMessage, PushOutcome, send_with_retry};
use tokio::sync::mpsc;

use super::super::AppState;
use crate::{
    domain::reach::{self, Notice, devices, preferences},
    error::AppResult,
};

/// Runs for the life of the server; each notice is pushed on its own task,
/// so a slow service never holds up the next.
pub async fn deliver(app: AppState, mut notices: mpsc::UnboundedReceiver<Notice>) {
    while let Some(notice) = notices.recv().await {
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = push(&app, notice).await {
                e.log_and_drop("pushing a notification");
            }
        });
    }
}

async fn push(app: &AppState, notice: Notice) -> AppResult<()> {
    if app.presence.is_online(&notice.user_id).await {
        return Ok(());
    }
    if !preferences::get(&app.db, &notice.user_id).await?.push_notifications {
        return Ok(());
    }
    if let Some(conversation) = notice.conversation_id
        && reach::muted(&app.db, &notice.user_id, conversation).await?
    {
        return Ok(());
    }
    let devices = devices::of_user(&app.db, &notice.user_id).await?;
    if devices.is_empty() {
        return Ok(());
    }
    let badge = reach::badge(&app.db, &notice.user_id).await?;
    let message = PushMessage {
        title: notice.title,
        body: notice.body,
        kind: notice.kind,
        conversation_id: notice.conversation_id.map(|c| c.to_string()),
        badge: u32::try_from(badge).unwrap_or(u32::MAX),
        data: Default::default(),
    };
    let sends = devices.iter().map(|device| {
        let message = &message;
        async move {
            let Some(provider) = app.reach.provider(&device.platform) else { return };
            let outcome = send_with_retry(provider.as_ref(), &device.token, message, &app.reach.retry).await;
            let result = match outcome {
                PushOutcome::Delivered => "sent",
                PushOutcome::Gone => {
                    if let Err(e) = devices::forget(&app.db, &device.token).await {
                        e.log_and_drop("deleting a device the push service no longer knows");
                    }
                    tracing::info!(platform = %device.platform, "device token gone: deleted");
                    "gone"
                }
                PushOutcome::Failed { why } => {
                    tracing::warn!(platform = %device.platform, %why, "push failed");
                    "failed"
                }
                PushOutcome::Retry { .. } => "failed",
            };
            app.metrics.count_offline(&device.platform, result);
        }
    });
    futures::future::join_all(sends).await;
    Ok(())
}
