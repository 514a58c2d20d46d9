//! Keeping several nodes honest: this node's presence heartbeat, noticing
//! Redis come back (and registering again), and clearing up after nodes
//! that died without saying goodbye.

use std::time::Duration;

use crate::{domain::presence::Presence, state::AppState};

/// Runs for the life of the server; does nothing on a single node.
pub async fn maintain(app: AppState) {
    let Presence::Shared(shared) = &app.presence else { return };
    let Some(redis) = app.redis.clone() else { return };
    let period = (app.settings.presence_ttl / 3).clamp(Duration::from_millis(200), Duration::from_secs(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
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
        if reaped.offline.is_empty() && reaped.leaves.is_empty() {
            continue;
        }
        let mut events = vec![];
        for (conv, user, meta) in reaped.leaves {
            events.push(super::connect::presence_left(conv, &user, meta));
        }
        for user in reaped.offline {
            events.extend(super::connect::went_offline(&app, &user).await);
        }
        app.emitter.publish(events).await;
    }
}
