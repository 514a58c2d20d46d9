//! Delivering outgoing webhooks from the outbox, and the admin view of the
//! deliveries. Each receiver URL has a worker of its own, so a URL that is
//! slow or down never delays the others; a delivery is attempted by one
//! node at a time (a lease), at least once, with backoff between attempts.

use std::{sync::Arc, time::Duration};

use entity::webhook_delivery;
use futures::StreamExt;
use parley_outbound::webhook::{Attempt, Deliverer, Outcome};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::Value;

use super::{AppState, Listed, StatusQuery};
use crate::{
    domain::{
        clock::Clock,
        outbox::{self, Attempted},
        users::Identity,
    },
    error::{AppError, AppResult},
};

/// How long past its attempts' timeouts a round keeps its lease.
const LEASE_SLACK: Duration = Duration::from_secs(5);
/// Deliveries one URL's worker claims per round: each round costs one short
/// write transaction (recording it and claiming the next), whatever its size.
const PER_ROUND: u64 = 256;
/// Requests in flight to one receiver at most.
const IN_FLIGHT: usize = 64;
/// After a round that did not fill, how long the worker lets events gather
/// before it claims again: under load a round carries many deliveries
/// instead of the one or two a single batch of messages published, and
/// the outbox costs the database a few commits a second instead of one or
/// two per published batch. A quiet outbox still delivers at once.
const GATHER: Duration = Duration::from_millis(25);
/// How often a busy worker reads the age of the oldest waiting delivery (a
/// metric); an idle one reads it before it waits.
const OLDEST_EVERY: Duration = Duration::from_secs(1);
/// How long a worker waits before looking again when nothing is due (a
/// publish on this node wakes it sooner; other nodes' events wait this long).
const IDLE_POLL: Duration = Duration::from_secs(1);

/// How often a worker deletes its URL's deliveries that were delivered
/// longer ago than the maximum age (the admin list shows them until then).
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Delivered rows one delete statement removes at most.
const SWEEP_BATCH: u64 = 1000;

/// The outbound library's clock is the server's clock, so signatures carry
/// the time tests set.
struct ServerClock(Clock);

impl parley_outbound::clock::Clock for ServerClock {
    fn now(&self) -> std::time::SystemTime {
        self.0.now().into()
    }
}

/// Connections the workers share at most.
const MAX_CONNECTIONS: u32 = 4;

/// Starts one worker per receiver URL; nothing when webhooks are off. The
/// workers record their leases and results on connections of their own
/// whose commits do not wait for the disk (`db::connect_relaxed`): a lost
/// one means a delivery attempted again, never one lost.
pub async fn start(app: &AppState) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let Some(secret) = app.settings.webhooks.secret.clone() else { return Ok(vec![]) };
    if !app.webhooks.enabled() {
        return Ok(vec![]);
    }
    let deliverer = Deliverer::with_clock(app.webhooks.timeout, Arc::new(ServerClock(app.clock.clone())))?;
    let secret: Arc<[u8]> = secret.expose().as_bytes().into();
    let connections = u32::try_from(app.webhooks.urls.len()).unwrap_or(u32::MAX).clamp(1, MAX_CONNECTIONS);
    let db = crate::db::connect_relaxed(&app.settings, connections).await?;
    Ok(app
        .webhooks
        .urls
        .iter()
        .map(|url| {
            let worker = Worker { app: app.clone(), db: db.clone(), url: url.clone() };
            tokio::spawn(worker.run(deliverer.clone(), secret.clone()))
        })
        .collect())
}

/// One receiver URL's worker.
struct Worker {
    app: AppState,
    /// The relaxed connections its bookkeeping goes through.
    db: DatabaseConnection,
    url: String,
}

impl Worker {
    async fn run(self, deliverer: Deliverer, secret: Arc<[u8]>) {
        let app = &self.app;
        let mut oldest_read = std::time::Instant::now() - OLDEST_EVERY;
        let mut next_sweep = app.clock.now();
        let mut claimed = Vec::new();
        loop {
            let now = app.clock.now();
            if now >= next_sweep {
                self.sweep_delivered().await;
                next_sweep = now + chrono::Duration::from_std(SWEEP_EVERY).unwrap_or_default();
            }
            if claimed.is_empty() {
                claimed = match self.claim().await {
                    Ok(c) => c,
                    Err(e) => {
                        e.log_and_drop("claiming webhook deliveries");
                        tokio::time::sleep(IDLE_POLL).await;
                        continue;
                    }
                };
                if claimed.is_empty() {
                    self.update_oldest().await;
                    self.wait_for_work().await;
                    continue;
                }
            }
            let full = claimed.len() as u64 >= PER_ROUND;
            let attempts: Vec<_> = claimed.iter().map(|d| attempt(app, &deliverer, &secret, d)).collect();
            let attempted: Vec<_> = futures::stream::iter(attempts).buffer_unordered(IN_FLIGHT).collect().await;
            if !full {
                tokio::time::sleep(GATHER).await;
            }
            claimed = self.record_and_claim(attempted).await;
            if oldest_read.elapsed() >= OLDEST_EVERY {
                self.update_oldest().await;
                oldest_read = std::time::Instant::now();
            }
        }
    }

    /// How long a claim holds its deliveries: a round's attempts end within
    /// their timeouts, `IN_FLIGHT` at a time, and the slack covers
    /// recording them. A node that dies holding a lease frees it this long
    /// after it took it.
    fn lease(&self) -> chrono::Duration {
        let waves = u32::try_from((PER_ROUND as usize).div_ceil(IN_FLIGHT)).unwrap_or(u32::MAX);
        chrono::Duration::from_std(self.app.webhooks.timeout * waves + LEASE_SLACK).unwrap_or_default()
    }

    /// Takes this URL's next due deliveries.
    async fn claim(&self) -> AppResult<Vec<webhook_delivery::Model>> {
        let now = self.app.clock.now();
        let claim = outbox::claim(&self.db, &self.url, now, now + self.lease(), PER_ROUND);
        self.app.writer.turns().with(claim).await
    }

    /// Records a round's attempts and takes the next round in the same
    /// transaction (one commit per round). When that fails the round's
    /// leases run out and its deliveries are attempted again.
    async fn record_and_claim(
        &self,
        attempted: Vec<(&webhook_delivery::Model, Attempted)>,
    ) -> Vec<webhook_delivery::Model> {
        let app = &self.app;
        let done = async {
            let txn = self.db.begin().await?;
            let now = app.clock.now();
            let results = outbox::record(&txn, &app.webhooks, attempted, now).await?;
            let next = outbox::claim(&txn, &self.url, now, now + self.lease(), PER_ROUND).await?;
            txn.commit().await?;
            AppResult::Ok((results, next))
        };
        let done = app.writer.turns().with(done).await;
        match done {
            Ok((results, next)) => {
                for result in results {
                    app.metrics
                        .webhook_attempts
                        .get_or_create(&crate::metrics::ResultLabels { result: result.into() })
                        .inc();
                }
                next
            }
            Err(e) => {
                e.log_and_drop("recording webhook attempts");
                vec![]
            }
        }
    }

    /// Sleeps until this URL's next delivery is due, a publish on this
    /// node, or the idle poll, whichever comes first.
    async fn wait_for_work(&self) {
        let app = &self.app;
        let published = app.emitter.published();
        let due = match outbox::next_due(&self.db, &self.url).await {
            Ok(due) => due,
            Err(e) => {
                e.log_and_drop("reading when webhooks fall due");
                None
            }
        };
        let poll = app.clock.now() + chrono::Duration::from_std(IDLE_POLL).unwrap_or_default();
        let until = due.map_or(poll, |d| d.min(poll));
        tokio::select! {
            _ = app.clock.sleep_until(until) => {}
            _ = published => {}
        }
    }

    /// Deletes this URL's deliveries that were delivered before the maximum
    /// age, a batch at a time, so no statement holds the table for long.
    async fn sweep_delivered(&self) {
        let max_age = chrono::Duration::from_std(self.app.webhooks.max_age).unwrap_or(chrono::Duration::MAX);
        let Some(before) = self.app.clock.now().checked_sub_signed(max_age) else { return };
        loop {
            let sweep = outbox::sweep_delivered(&self.db, &self.url, before, SWEEP_BATCH);
            match self.app.writer.turns().with(sweep).await {
                Ok(n) if n >= SWEEP_BATCH => continue,
                Ok(_) => return,
                Err(e) => return e.log_and_drop("deleting delivered webhooks past the maximum age"),
            }
        }
    }

    async fn update_oldest(&self) {
        match outbox::oldest_waiting(&self.db).await {
            Ok(oldest) => {
                let age = oldest.map(|t| (self.app.clock.now() - t).num_milliseconds().max(0)).unwrap_or(0);
                self.app.metrics.webhook_oldest_pending_seconds.set(age as f64 / 1000.0);
            }
            Err(e) => e.log_and_drop("reading the oldest waiting webhook"),
        }
    }
}

/// One attempt at a claimed delivery.
async fn attempt<'d>(
    app: &AppState,
    deliverer: &Deliverer,
    secret: &[u8],
    d: &'d webhook_delivery::Model,
) -> (&'d webhook_delivery::Model, Attempted) {
    let event_id = d.event_id.to_string();
    let attempt_no = u32::try_from(d.attempts).unwrap_or(1).max(1);
    let outcome = deliverer
        .deliver(
            &d.url,
            secret,
            &Attempt { event_type: &d.kind, delivery_id: &event_id, attempt: attempt_no, body: d.body.as_bytes() },
        )
        .await;
    let attempted = match outcome {
        Outcome::Delivered { status } => Attempted::Delivered { status },
        Outcome::Failed { status, error } => {
            let wait = parley_outbound::backoff::backoff(attempt_no, &mut rand::rng());
            let retry_at = app.clock.now() + chrono::Duration::from_std(wait).unwrap_or_default();
            tracing::info!(delivery_id = %d.id, attempt = attempt_no, %error, "webhook attempt failed");
            Attempted::Failed { status, error, retry_at }
        }
    };
    (d, attempted)
}

/// Deliveries for administrators, newest first, by status.
pub async fn deliveries(app: &AppState, _admin: &Identity, q: StatusQuery) -> AppResult<Listed> {
    let (page, status) = q.parse(&[outbox::PENDING, outbox::FAILED, outbox::DEAD, outbox::DELIVERED])?;
    let (rows, total) = outbox::deliveries(&app.db, status, page).await?;
    Ok(Listed { items: rows.iter().map(outbox::delivery_json).collect(), pagination: page.json(total) })
}

/// Queues a delivery again from attempt 1.
pub async fn replay(app: &AppState, admin: &Identity, id: &str) -> AppResult<Value> {
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::not_found("Delivery"))?;
    let now = app.clock.now();
    let txn = crate::db::begin_write(&app.db).await?;
    let d = outbox::replay(&txn, id, now).await?;
    super::admin::log(&txn, admin, "replay_webhook", "webhook_delivery", d.id.to_string(), None, now).await?;
    txn.commit().await?;
    app.emitter.nudge();
    Ok(outbox::delivery_json(&d))
}
