//! Parley's calls to the outside world, kept apart from the server so that
//! each can be tested against a stand-in of the service it talks to.
//!
//! - [`webhook`]: signed event deliveries to the platform's receivers, one
//!   attempt at a time, and the backoff between attempts.
//! - [`presend`]: the pre-send hook that may allow, reject or rewrite a message.
//! - [`mail`]: the offline digest email and the SMTP transport that sends it.
//! - [`push`]: FCM and APNs behind one [`push::PushProvider`] trait.
//!
//! Nothing here reads the environment: the server reads its settings once
//! and hands the values in; errors name the variable a value came from.

pub mod backoff;
pub mod clock;
mod config_error;
mod http;
mod mac;
pub mod mail;
pub mod presend;
pub mod push;
pub mod webhook;

pub use backoff::{Backoff, backoff};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config_error::ConfigError;
