//! parley-outbound against local stand-ins of the services it calls and a
//! real SMTP server (MailDev, `npm ci --prefix tests/smtp`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod apns;
mod fcm;
mod mail;
mod presend;
mod webhook;

use std::time::Duration;

/// How long a test waits for something that should happen at once.
pub const WAIT: Duration = Duration::from_secs(10);
