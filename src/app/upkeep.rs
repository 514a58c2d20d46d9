//! Background upkeep: this node's presence heartbeat, noticing Redis come
//! back (and registering again), clearing up after nodes that died without
//! saying goodbye, emitting messages whose emit never happened, and
//! forgetting idle rate-limit buckets.

use std::{collections::HashMap, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{AppState, presence};
use crate::domain::{clock, conversations, events, ids::ConversationId, messages, presence::Presence};

/// How often idle rate-limit buckets are forgotten.
const EVICT_EVERY: Duration = Duration::from_secs(60);

/// How often the analytics aggregator looks for settled messages.
const ANALYTICS_EVERY: Duration = Duration::from_secs(1);

/// Runs for the life of the server.
pub async fn maintain(app: AppState) {
    let period = if app.redis.is_some() {
        (app.settings.presence_ttl / 3).clamp(Duration::from_millis(200), Duration::from_secs(1))
    } else {
        EVICT_EVERY
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_evicted = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        if last_evicted.elapsed() >= EVICT_EVERY {
            let evicted = app.limiter.evict_idle();
            tracing::debug!(evicted, "idle rate-limit buckets forgotten");
            last_evicted = tokio::time::Instant::now();
        }
        if app.redis.is_some() {
            cluster_upkeep(&app).await;
        }
    }
}

async fn cluster_upkeep(app: &AppState) {
    let (Presence::Shared(shared), Some(redis)) = (&app.presence, &app.redis) else { return };
    let was_healthy = redis.is_healthy();
    if !redis.ping().await {
        return;
    }
    if !was_healthy {
        // Redis restarted or was cut off: what it knew of us may be gone.
        shared.resync().await;
    }
    shared.heartbeat().await;
    let reaped = shared.reap().await;
    let mut out = vec![];
    for (conv, user, meta) in reaped.leaves {
        out.push(presence::presence_left(conv, &user, meta));
    }
    for user in reaped.offline {
        out.extend(presence::went_offline(app, &user).await);
    }
    app.emitter.publish(out).await;
    redeliver(app).await;
}

/// Emits stored messages nobody emitted. With several nodes, one at a time.
async fn redeliver(app: &AppState) {
    if let Some(redis) = &app.redis
        && !redis.lease("parley:redeliver", Duration::from_secs(1)).await
    {
        return;
    }
    // Its own node had this long to emit it (and confirm), even under load.
    let age = chrono::Duration::from_std(app.settings.redelivery_after).unwrap_or_default();
    let pending = match messages::pending_emits(&app.db, app.clock.now() - age, 200).await {
        Ok(p) => p,
        Err(e) => {
            e.log_and_drop("reading messages stored without an emit");
            return;
        }
    };
    if pending.is_empty() {
        return;
    }
    tracing::warn!(count = pending.len(), "emitting messages stored without an emit (a node died or Redis was away)");
    let mut convs = HashMap::new();
    let mut out = vec![];
    for m in pending {
        let c = match convs.entry(m.conversation_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                match conversations::load(&app.db, ConversationId(m.conversation_id)).await {
                    Ok(c) => slot.insert(c),
                    Err(e) => {
                        e.log_and_drop("loading the conversation of a message to emit again");
                        continue;
                    }
                }
            }
        };
        out.push(events::redelivered(c, &m));
    }
    app.emitter.publish(out).await;
}

/// Clears the pending mark of emitted messages, in batches.
pub async fn confirm_emits(db: DatabaseConnection, mut emitted: mpsc::UnboundedReceiver<Uuid>) {
    let mut batch = Vec::with_capacity(512);
    while emitted.recv_many(&mut batch, 512).await > 0 {
        if let Err(e) = messages::mark_emitted(&db, std::mem::take(&mut batch)).await {
            e.log_and_drop("clearing the pending mark of emitted messages");
        }
    }
}

/// Gives the messages stored before search existed their words, once per
/// start, showing progress in the log.
pub async fn backfill_search(db: DatabaseConnection) {
    use crate::domain::search::backfill;
    let (mut after, mut filled, mut looked) = (None, 0u64, 0u64);
    loop {
        match backfill::batch(&db, after).await {
            Ok(Some((last, n))) => {
                after = Some(last);
                filled += n;
                looked += backfill::BATCH;
                if n > 0 {
                    tracing::info!(
                        indexed = filled,
                        looked_at = looked,
                        "search: indexing messages stored before search"
                    );
                }
            }
            Ok(None) => break,
            Err(e) => {
                e.log_and_drop("indexing older messages for search");
                return;
            }
        }
        // Leaves the database to the chat between batches.
        tokio::task::yield_now().await;
    }
    if filled > 0 {
        tracing::info!(indexed = filled, "search: every older message is indexed");
    }
}

/// Keeps the analytics rollups up to date: folds settled messages every
/// second, batch after batch while behind (a database with history, or
/// one that was down), saying how far it got.
pub async fn keep_analytics(app: AppState) {
    use crate::domain::moderation::analytics::rollup;
    let mut tick = tokio::time::interval(ANALYTICS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut caught_up = true;
    loop {
        tick.tick().await;
        loop {
            match rollup::advance(&app.db, app.clock.now()).await {
                Ok(step) if step.folded >= rollup::BATCH => {
                    caught_up = false;
                    let through = step.through.map(|t| clock::rfc3339(&t));
                    tracing::info!(
                        folded = step.folded,
                        through,
                        "analytics: folding earlier messages into the rollups"
                    );
                    // Leaves the database to the chat between batches.
                    tokio::task::yield_now().await;
                }
                Ok(_) => {
                    if !caught_up {
                        tracing::info!("analytics: the rollups have caught up");
                        caught_up = true;
                    }
                    break;
                }
                Err(e) => {
                    e.log_and_drop("folding messages into the analytics rollups");
                    break;
                }
            }
        }
    }
}
