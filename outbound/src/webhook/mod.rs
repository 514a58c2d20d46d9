//! Outgoing webhooks (contract section 11): the signature, one delivery
//! attempt, and the event headers. Retrying, the outbox and the admin view
//! belong to the server; [`crate::backoff`] gives the waits between attempts.

mod deliver;
mod signature;

pub use deliver::{Attempt, Deliverer, Outcome};
pub(crate) use deliver::{post_signed, user_agent};
pub use signature::{VerifyError, sign, verify};

/// Default for `WEBHOOK_TIMEOUT_MS`.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(5_000);

pub const HEADER_EVENT: &str = "x-parley-event";
pub const HEADER_DELIVERY_ID: &str = "x-parley-delivery-id";
pub const HEADER_ATTEMPT: &str = "x-parley-attempt";
pub const HEADER_TIMESTAMP: &str = "x-parley-timestamp";
pub const HEADER_SIGNATURE: &str = "x-parley-signature";
