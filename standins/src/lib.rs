//! Local stand-ins for the services Parley talks to but tests cannot reach:
//! FCM, APNs and the platform's webhook receiver, each a server on
//! 127.0.0.1 port 0 that speaks the documented API, checks what it is sent,
//! records it, and fails on demand. Plus [`maildev`], a real SMTP server.
//!
//! Nothing here is for production: the keys are generated per test process.
//! A stand-in that cannot bind or lock fails the test at once, hence the
//! `unwrap`s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod apns;
mod arrivals;
mod faults;
pub mod fcm;
pub mod keys;
pub mod maildev;
mod serve;
pub mod webhook;

pub use arrivals::Arrivals;
pub use faults::{Fault, Faults};
