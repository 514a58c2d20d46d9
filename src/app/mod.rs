//! The use cases: one async function per client operation. Each takes the
//! caller's identity, a transport-neutral input and the services it needs
//! ([`AppState`]), and does the whole job: rate limit, authorisation and
//! claim checks, the domain call, commit, publishing the events through
//! the one emitter, metrics. It returns a typed answer that each transport
//! serialises.
//!
//! REST (`http/`), Socket.IO (`realtime/`) and the older `chat:*` protocol
//! (`realtime/legacy`) are adapters over these functions: they parse, call
//! one operation, and write the answer.

pub mod admin;
pub mod collaborations;
pub mod conversations;
pub mod dev;
pub mod flow;
pub mod messages;
pub mod moderation;
pub mod notifications;
pub mod payments;
pub mod platform;
pub mod presence;
pub mod presend;
pub mod reach;
pub mod rooms;
pub mod schedules;
pub mod search;
pub mod session;
pub mod typing;
pub mod upkeep;
pub mod webhooks;

use serde::Deserialize;
use serde_json::Value;

pub use crate::state::AppState;
use crate::{
    domain::{
        limits::{Limit, Spender},
        pagination::Page,
        users::Identity,
    },
    error::{AppError, AppResult},
};

/// A page of a list, with its `pagination` object.
pub struct Listed {
    pub items: Vec<Value>,
    pub pagination: Value,
}

/// `?status&page&limit` of the admin queues (flags, webhook deliveries).
#[derive(Debug, Default, Deserialize)]
pub struct StatusQuery {
    pub status: Option<String>,
    pub page: Option<String>,
    pub limit: Option<String>,
}

impl StatusQuery {
    /// The page (10 rows by default) and the status asked for: one of
    /// `allowed`, or `None` when absent.
    pub fn parse(&self, allowed: &[&'static str]) -> AppResult<(Page, Option<&'static str>)> {
        let page = Page::parse(self.page.as_deref(), self.limit.as_deref(), 10)?;
        let status =
            match self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => Some(allowed.iter().copied().find(|a| *a == s).ok_or_else(|| {
                    AppError::invalid_field("status", format!("must be one of {}", allowed.join(", ")))
                })?),
            };
        Ok((page, status))
    }
}

/// A client's live connection as the operations see it: what it has
/// joined, and a way to tell it something directly. The socket transport
/// implements it; the operations never see a socket.
pub trait Connection: Send + Sync {
    /// Unique among every node's connections.
    fn id(&self) -> String;
    fn join(&self, room: String);
    fn leave(&self, room: String);
    fn has_joined(&self, room: &str) -> bool;
    /// An event to this connection alone.
    fn push(&self, event: &'static str, data: &Value);
}

impl AppState {
    /// Spends one unit of the caller's budget for `limit`.
    pub async fn spend(&self, limit: Limit, who: &Identity) -> AppResult<()> {
        self.limiter.check(limit, Spender::User(&who.user_id)).await
    }
}
