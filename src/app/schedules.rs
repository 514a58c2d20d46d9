//! The time rules' scheduler: deletes messages whose time is up and
//! expires offers that waited too long, at the moment they fall due (and
//! at least every minute). It sleeps on the server's clock, so tests move
//! the clock instead of waiting. Every node runs one: each deleted message
//! is deleted once, and each offer expires by one transition.

use std::time::Duration;

use super::AppState;
use crate::domain::{expiry, flow::offers};

/// The longest the scheduler sleeps without looking.
const AT_LEAST_EVERY: Duration = Duration::from_secs(60);

pub async fn keep(app: AppState) {
    loop {
        let now = app.clock.now();
        sweep_messages(&app, now).await;
        expire_offers(&app, now).await;
        let next = next_due(&app).await;
        let cap = now + chrono::Duration::from_std(AT_LEAST_EVERY).unwrap_or_default();
        let until = next.map_or(cap, |t| t.min(cap));
        tokio::select! {
            _ = app.clock.sleep_until(until) => {}
            _ = app.alarm.rung() => {}
        }
    }
}

async fn sweep_messages(app: &AppState, now: chrono::DateTime<chrono::Utc>) {
    loop {
        match expiry::sweep(&app.db, now).await {
            Ok(swept) => {
                if swept.deleted > 0 {
                    tracing::debug!(deleted = swept.deleted, "expired messages deleted");
                }
                app.emitter.publish(swept.events).await;
                if swept.deleted == 0 {
                    return;
                }
            }
            Err(e) => {
                e.log_and_drop("deleting expired messages");
                return;
            }
        }
    }
}

async fn expire_offers(app: &AppState, now: chrono::DateTime<chrono::Utc>) {
    let due = match offers::expired_offers(&app.db, now, 100).await {
        Ok(due) => due,
        Err(e) => {
            e.log_and_drop("finding offers that expired");
            return;
        }
    };
    for c in due {
        match offers::expire_offer(&app.db, &app.flow, c).await {
            Ok(Some(acted)) => app.emitter.publish(acted.events).await,
            Ok(None) => {}
            Err(e) => e.log_and_drop("expiring an offer"),
        }
    }
}

async fn next_due(app: &AppState) -> Option<chrono::DateTime<chrono::Utc>> {
    let message = expiry::next_due(&app.db).await.unwrap_or_else(|e| {
        e.log_and_drop("reading when the next message expires");
        None
    });
    let offer = offers::next_offer_deadline(&app.db).await.unwrap_or_else(|e| {
        e.log_and_drop("reading when the next offer expires");
        None
    });
    [message, offer].into_iter().flatten().min()
}
