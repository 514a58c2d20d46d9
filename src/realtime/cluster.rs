//! Background upkeep: this node's presence heartbeat, noticing Redis come
//! back (and registering again), clearing up after nodes that died without
//! saying goodbye, and emitting messages whose emit never happened.

use std::{collections::HashMap, time::Duration};

use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::{
    domain::{conversations, events, ids::ConversationId, messages, presence::Presence},
    state::AppState,
};

/// Runs for the life of the server; a single node has nothing to do.
pub async fn maintain(app: AppState) {
    if app.redis.is_none() {
        return;
    }
    let period = (app.settings.presence_ttl / 3).clamp(Duration::from_millis(200), Duration::from_secs(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let (Presence::Shared(shared), Some(redis)) = (&app.presence, &app.redis) {
            let was_healthy = redis.is_healthy();
            if !redis.ping().await {
                continue;
            }
            if !was_healthy {
                // Redis restarted or was cut off: what it knew of us may be gone.
                shared.resync().await;
            }
            shared.heartbeat().await;
            let reaped = shared.reap().await;
            let mut events = vec![];
            for (conv, user, meta) in reaped.leaves {
                events.push(super::connect::presence_left(conv, &user, meta));
            }
            for user in reaped.offline {
                events.extend(super::connect::went_offline(&app, &user).await);
            }
            app.emitter.publish(events).await;
        }
        redeliver(&app).await;
    }
}

/// Emits stored messages nobody emitted. With several nodes, one at a time.
async fn redeliver(app: &AppState) {
    if let Some(redis) = &app.redis {
        let lock: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg("parley:redeliver")
            .arg(&redis.node_id)
            .arg("NX")
            .arg("PX")
            .arg(1_000)
            .query_async(&mut redis.conn.clone())
            .await;
        if !matches!(lock, Ok(Some(_))) {
            return;
        }
    }
    // Its own node had this long to emit it (and confirm), even under load.
    let age = chrono::Duration::from_std(app.settings.redelivery_after).unwrap_or_default();
    let pending = match messages::pending_emits(&app.db, age, 200).await {
        Ok(p) => p,
        Err(e) => {
            e.envelope();
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
                        e.envelope();
                        continue;
                    }
                }
            }
        };
        let mut event = events::new_message(c, &m);
        event.data.tree_mut()["redelivered"] = json!(true);
        out.push(event);
    }
    app.emitter.publish(out).await;
}

/// Clears the pending mark of emitted messages, in batches.
pub async fn confirm_emits(db: DatabaseConnection, mut emitted: mpsc::UnboundedReceiver<Uuid>) {
    let mut batch = Vec::with_capacity(512);
    while emitted.recv_many(&mut batch, 512).await > 0 {
        if let Err(e) = messages::mark_emitted(&db, std::mem::take(&mut batch)).await {
            e.envelope();
        }
    }
}
