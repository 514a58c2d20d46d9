//! Prometheus metrics, one registry per running server.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
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

pub struct Metrics {
    registry: Registry,
    pub connected_sockets: Gauge,
    pub messages_sent: Counter,
    pub http_requests: Family<HttpLabels, Counter>,
    pub event_errors: Family<EventLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("parley");
        let connected_sockets = Gauge::default();
        let messages_sent = Counter::default();
        let http_requests = Family::<HttpLabels, Counter>::default();
        let event_errors = Family::<EventLabels, Counter>::default();
        registry.register("connected_sockets", "Socket.IO connections open on this node", connected_sockets.clone());
        registry.register("messages_sent", "User messages stored", messages_sent.clone());
        registry.register("http_requests", "HTTP requests by route, method and status", http_requests.clone());
        registry.register(
            "event_handler_errors",
            "Socket.IO events answered with an error, by event and error code",
            event_errors.clone(),
        );
        Self { registry, connected_sockets, messages_sent, http_requests, event_errors }
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
