//! Prometheus metrics, one registry per running server.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub event: String,
    pub error_code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventName {
    pub event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    pub limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReachLabels {
    /// `smtp`, `fcm` or `apns`.
    pub provider: String,
    /// `sent`, `failed` or `gone` (a device the service no longer knows).
    pub result: String,
}

pub struct Metrics {
    registry: Registry,
    pub connected_sockets: Gauge,
    pub messages_sent: Counter,
    pub http_requests: Family<HttpLabels, Counter>,
    pub event_errors: Family<EventLabels, Counter>,
    /// Messages per group commit.
    pub message_batch_size: Histogram,
    /// Time from a group commit's first statement to its commit.
    pub message_batch_seconds: Histogram,
    /// Webhook attempts by what became of the delivery.
    pub webhook_attempts: Family<ResultLabels, Counter>,
    /// Age of the oldest delivery still waiting to be delivered.
    pub webhook_oldest_pending_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// HTTP latency by matched route, request to response head.
    pub http_seconds: Family<RouteLabels, Histogram>,
    /// Socket event latency by event, arrival to ack (or `message_error`).
    pub event_seconds: Family<EventName, Histogram>,
    /// Requests and events refused by a rate limit, by limit.
    pub rate_limited: Family<LimitLabels, Counter>,
    pub db_pool_connections: Gauge,
    pub db_pool_idle_connections: Gauge,
    /// 1 while Redis answers, 0 when it does not (absent on a single node).
    pub redis_up: Gauge,
    pub process: crate::metrics_process::ProcessMetrics,
    /// Offline emails and pushes by provider and result.
    pub offline_sent: Family<ReachLabels, Counter>,
    /// From the first unread message of a burst to its email going out.
    pub email_delay_seconds: Histogram,
}

fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_5, 2.0, 14))
}

impl Metrics {
    pub fn count_offline(&self, provider: &str, result: &str) {
        self.offline_sent.get_or_create(&ReachLabels { provider: provider.into(), result: result.into() }).inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut root = Registry::default();
        let process = crate::metrics_process::ProcessMetrics::register(&mut root);
        let registry = root.sub_registry_with_prefix("parley");
        let connected_sockets = Gauge::default();
        let messages_sent = Counter::default();
        let http_requests = Family::<HttpLabels, Counter>::default();
        let event_errors = Family::<EventLabels, Counter>::default();
        let message_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        let message_batch_seconds = Histogram::new(exponential_buckets(0.000_25, 2.0, 12));
        registry.register("connected_sockets", "Socket.IO connections open on this node", connected_sockets.clone());
        registry.register("messages_sent", "User messages stored", messages_sent.clone());
        registry.register("http_requests", "HTTP requests by route, method and status", http_requests.clone());
        registry.register(
            "event_handler_errors",
            "Socket.IO events answered with an error, by event and error code",
            event_errors.clone(),
        );
        registry.register("message_batch_size", "Messages written by one group commit", message_batch_size.clone());
        registry.register(
            "message_batch_seconds",
            "Duration of one group commit, first statement to commit",
            message_batch_seconds.clone(),
        );
        let webhook_attempts = Family::<ResultLabels, Counter>::default();
        let webhook_oldest_pending_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by result (delivered, failed, dead)",
            webhook_attempts.clone(),
        );
        registry.register(
            "webhook_oldest_pending_seconds",
            "Age of the oldest webhook delivery not yet delivered",
            webhook_oldest_pending_seconds.clone(),
        );
        let http_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(latency_buckets as fn() -> Histogram);
        let event_seconds = Family::<EventName, Histogram>::new_with_constructor(latency_buckets as fn() -> Histogram);
        let rate_limited = Family::<LimitLabels, Counter>::default();
        let db_pool_connections = Gauge::default();
        let db_pool_idle_connections = Gauge::default();
        let redis_up = Gauge::default();
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").into() }).set(1);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by matched route and method",
            http_seconds.clone(),
        );
        registry.register(
            "event_duration_seconds",
            "Socket.IO event latency by event, arrival to ack",
            event_seconds.clone(),
        );
        registry.register("rate_limited", "Requests and events refused by a rate limit", rate_limited.clone());
        registry.register("db_pool_connections", "Database connections open in the pool", db_pool_connections.clone());
        registry.register(
            "db_pool_idle_connections",
            "Database connections idle in the pool",
            db_pool_idle_connections.clone(),
        );
        registry.register("redis_up", "1 while Redis answers, 0 when it does not", redis_up.clone());
        registry.register("build_info", "The running build (always 1)", build_info);
        let offline_sent = Family::<ReachLabels, Counter>::default();
        // One minute to two days: the delay is EMAIL_DELAY_MS and more.
        let email_delay_seconds = Histogram::new(exponential_buckets(60.0, 2.0, 12));
        registry.register(
            "offline_notifications",
            "Offline emails and pushes by provider (smtp, fcm, apns) and result (sent, failed, gone)",
            offline_sent.clone(),
        );
        registry.register(
            "email_delay_seconds",
            "From the first unread message of a burst to its offline email",
            email_delay_seconds.clone(),
        );
        Self {
            registry: root,
            http_seconds,
            event_seconds,
            rate_limited,
            db_pool_connections,
            db_pool_idle_connections,
            redis_up,
            process,
            offline_sent,
            email_delay_seconds,
            webhook_attempts,
            webhook_oldest_pending_seconds,
            connected_sockets,
            messages_sent,
            http_requests,
            event_errors,
            message_batch_size,
            message_batch_seconds,
        }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        out
    }
}
