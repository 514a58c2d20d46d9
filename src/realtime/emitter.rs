//! The Socket.IO side of the [`Emitter`](crate::state::Emitter): room emits
//! through the adapter, so they reach every node when Redis is configured.

use socketioxide::{SocketIo, adapter::Adapter};

use crate::{
    domain::events::Outbound,
    state::{BoxFuture, Sink},
};

pub struct SocketSink<A: Adapter> {
    io: SocketIo<A>,
}

impl<A: Adapter> SocketSink<A> {
    pub fn new(io: SocketIo<A>) -> Self {
        Self { io }
    }
}

impl<A: Adapter> Sink for SocketSink<A> {
    fn emit<'a>(&'a self, event: &'a Outbound) -> BoxFuture<'a, ()> {
        Box::pin(async move {
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
                tracing::warn!(event = event.event, error = %e, "emit failed");
            }
        })
    }
}
