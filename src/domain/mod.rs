//! The business of Parley: conversations, messages, presence, the
//! collaboration flow and payments. Nothing here knows about axum or
//! socketioxide; functions return results and the events to publish once
//! their changes are committed.

pub mod clock;
pub mod collaborations;
pub mod contexts;
pub mod conversations;
pub mod events;
pub mod expiry;
pub mod flow;
pub mod ids;
pub mod inbox;
pub mod limits;
pub mod messages;
pub mod money;
pub mod names;
pub mod notifications;
pub mod outbox;
pub mod pagination;
pub mod payments;
pub mod presence;
pub mod quota;
pub mod reach;
pub mod settings;
pub mod typing;
pub mod users;
pub mod validate;
