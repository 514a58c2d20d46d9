//! The Socket.IO side of the [`Emitter`](crate::state::Emitter): room emits
//! through the adapter, so they reach every node when Redis is configured,
//! and the older protocol's events written from them.

use std::sync::Weak;

use socketioxide::{SocketIo, adapter::Adapter};

use super::legacy::render::{self, Audience};
use crate::{
    domain::events::Outbound,
    state::{AppState, BoxFuture, Inner, Sink},
};

pub struct SocketSink<A: Adapter> {
    io: SocketIo<A>,
    /// The server, for the older protocol's events (weak: the server owns the sink).
    app: Weak<Inner>,
    legacy: Audience,
}

impl<A: Adapter> SocketSink<A> {
    pub fn new(io: SocketIo<A>, app: &AppState) -> Self {
        Self { io, app: std::sync::Arc::downgrade(&app.0), legacy: Audience::default() }
    }

    async fn emit_one(&self, event: &Outbound) {
        // An emit to no room would reach every socket: an event addressed
        // to nobody goes nowhere.
        if event.rooms.is_empty() {
            return;
        }
        // After shutdown closed the namespace, late events have nowhere to go.
        let Some(op) = self.io.of("/") else {
            tracing::debug!(event = event.event, "emit after shutdown dropped");
            return;
        };
        let mut op = op.to(event.rooms.clone());
        if !event.except.is_empty() {
            op = op.except(event.except.clone());
        }
        if let Err(e) = op.emit(event.event, &event.data).await {
            // Sockets that close while an event is on its way are normal.
            tracing::debug!(event = event.event, error = %e, "emit not delivered everywhere");
        }
        if event.disconnect
            && let Some(op) = self.io.of("/")
            && let Err(e) = op.to(event.rooms.clone()).disconnect().await
        {
            tracing::warn!(event = event.event, error = %e, "sockets not closed everywhere");
        }
    }
}

impl<A: Adapter> Sink for SocketSink<A> {
    fn emit<'a>(&'a self, events: &'a [Outbound]) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            for event in events {
                self.emit_one(event).await;
            }
            if let Some(app) = self.app.upgrade() {
                render::render(&self.io, &AppState(app), &self.legacy, events).await;
            }
        })
    }
}
