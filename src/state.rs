//! What every handler shares.

use std::{
    future::Future,
    ops::Deref,
    pin::Pin,
    sync::{Arc, OnceLock},
};

use sea_orm::DatabaseConnection;

use crate::{
    auth::Verifier,
    config::Settings,
    domain::{
        events::Outbound,
        flow::engine::{Deps, FlowConfig},
        payments::Payments,
        presence::Presence,
        typing::Typing,
        users::UserCache,
    },
    metrics::Metrics,
};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Delivers one outbound event to the sockets it names (on every node).
pub trait Sink: Send + Sync + 'static {
    fn emit<'a>(&'a self, event: &'a Outbound) -> BoxFuture<'a, ()>;
}

/// The one way events leave the server. Installed once the Socket.IO layer
/// exists; REST handlers, socket handlers and background tasks all publish
/// through it, and only after their changes have committed.
#[derive(Clone, Default)]
pub struct Emitter {
    sink: Arc<OnceLock<Box<dyn Sink>>>,
}

impl Emitter {
    pub fn install(&self, sink: impl Sink) {
        if self.sink.set(Box::new(sink)).is_err() {
            tracing::warn!("event sink installed twice; keeping the first");
        }
    }

    pub async fn publish(&self, events: Vec<Outbound>) {
        let Some(sink) = self.sink.get() else {
            tracing::error!(count = events.len(), "events dropped: no sink installed");
            return;
        };
        for event in &events {
            sink.emit(event).await;
        }
    }
}

pub struct Inner {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub verifier: Verifier,
    pub users: UserCache,
    pub presence: Presence,
    pub typing: Typing,
    pub metrics: Metrics,
    pub emitter: Emitter,
    pub flow: FlowConfig,
    pub payments: Payments,
}

impl Inner {
    /// What the flow engine needs.
    pub fn deps(&self) -> Deps<'_> {
        Deps { db: &self.db, cfg: &self.flow, payments: &self.payments }
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
