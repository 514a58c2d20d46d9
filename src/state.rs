//! What every handler shares.

use std::{
    future::Future,
    ops::Deref,
    pin::Pin,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

use sea_orm::DatabaseConnection;

use crate::{
    auth::Verifier,
    cluster::Redis,
    config::Settings,
    domain::{
        clock::{Alarm, Clock},
        events::Outbound,
        flow::engine::FlowConfig,
        limits::Limiter,
        messages::Writer,
        outbox::Webhooks,
        payments::Payments,
        presence::Presence,
        reach::Notice,
        typing::Typing,
        users::{LastSeen, UserCache},
    },
    metrics::Metrics,
};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Delivers outbound events to the sockets they name (on every node).
pub trait Sink: Send + Sync + 'static {
    fn emit<'a>(&'a self, events: &'a [Outbound]) -> BoxFuture<'a, ()>;
}

/// The one way events leave the server. Installed once the Socket.IO layer
/// exists; REST handlers, socket handlers and background tasks all publish
/// through it, and only after their changes have committed.
#[derive(Clone, Default)]
pub struct Emitter {
    sink: Arc<OnceLock<Box<dyn Sink>>>,
    delivery: Arc<OnceLock<Delivery>>,
    /// Woken after every publish: a change has committed (the webhook
    /// workers look for new deliveries then).
    published: Arc<Notify>,
    /// Where notifications just created go to be pushed, when push is on.
    notices: Arc<OnceLock<mpsc::UnboundedSender<Notice>>>,
}

/// Where the ids of emitted messages go, to clear their pending mark.
struct Delivery {
    emitted: mpsc::UnboundedSender<Uuid>,
    redis: Option<Redis>,
}

impl Emitter {
    pub fn install(&self, sink: impl Sink) {
        if self.sink.set(Box::new(sink)).is_err() {
            tracing::warn!("event sink installed twice; keeping the first");
        }
    }

    /// Reports emitted messages to `emitted`; with Redis, only while it is
    /// reachable, so what went out during an outage is emitted again.
    pub fn track_delivery(&self, emitted: mpsc::UnboundedSender<Uuid>, redis: Option<Redis>) {
        let _ = self.delivery.set(Delivery { emitted, redis });
    }

    /// Hands the notices of published notifications to `push` from now on.
    pub fn forward_notices(&self, push: mpsc::UnboundedSender<Notice>) {
        let _ = self.notices.set(push);
    }

    /// Resolves at the next publish (or nudge).
    pub fn published(&self) -> tokio::sync::futures::Notified<'_> {
        self.published.notified()
    }

    /// Wakes whoever waits for a publish, for a change that emits nothing.
    pub fn nudge(&self) {
        self.published.notify_waiters();
    }

    pub async fn publish(&self, events: Vec<Outbound>) {
        self.published.notify_waiters();
        let Some(sink) = self.sink.get() else {
            tracing::error!(count = events.len(), "events dropped: no sink installed");
            return;
        };
        if events.is_empty() {
            return;
        }
        sink.emit(&events).await;
        if let Some(push) = self.notices.get() {
            for notice in events.iter().filter_map(|e| e.notice.as_deref()) {
                let _ = push.send(notice.clone());
            }
        }
        if let Some(delivery) = self.delivery.get()
            && delivery.redis.as_ref().is_none_or(Redis::is_healthy)
        {
            for id in events.iter().filter_map(|e| e.message_id) {
                let _ = delivery.emitted.send(id);
            }
        }
    }
}

pub struct Inner {
    pub db: DatabaseConnection,
    pub settings: Settings,
    /// The one clock every time rule reads (tests move it).
    pub clock: Clock,
    /// Rung when something is scheduled (the time rules' scheduler wakes).
    pub alarm: Alarm,
    pub verifier: Verifier,
    pub users: UserCache,
    pub presence: Presence,
    pub typing: Typing,
    pub metrics: Metrics,
    pub emitter: Emitter,
    pub flow: FlowConfig,
    /// Where outgoing webhooks go (none when unconfigured).
    pub webhooks: Webhooks,
    /// The pre-send hook, when one is configured.
    pub presend: Option<parley_outbound::presend::PresendHook>,
    /// Offline email and push senders.
    pub reach: crate::app::reach::Reach,
    pub payments: Payments,
    pub limiter: Limiter,
    pub writer: Writer,
    pub last_seen: LastSeen,
    pub redis: Option<Redis>,
    /// Set once shutdown begins: new sockets are refused, readiness fails.
    pub draining: AtomicBool,
    /// Set once a client of the older `chat:*` protocol has connected.
    pub legacy_clients: AtomicBool,
    pub inflight: InFlight,
}

/// Socket events being handled right now, so shutdown can let them finish.
#[derive(Default)]
pub struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// Counts one event in flight until dropped.
pub struct InFlightGuard(Arc<Inner>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.inflight.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.inflight.idle.notify_waiters();
        }
    }
}

impl AppState {
    pub fn enter(&self) -> InFlightGuard {
        self.inflight.count.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(self.0.clone())
    }

    /// Waits until no socket event is being handled, or `limit` passes.
    pub async fn drained(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let idle = self.inflight.idle.notified();
                tokio::pin!(idle);
                idle.as_mut().enable();
                if self.inflight.count.load(Ordering::Acquire) == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
