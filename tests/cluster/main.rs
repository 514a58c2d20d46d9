//! Several real `parley` processes sharing PostgreSQL and a real
//! `redis-server`: cross-node delivery, presence, node death, draining,
//! Redis restarts, shared rate limits and database outages.
//! Needs TEST_DATABASE_URL (PostgreSQL) and `redis-server` on PATH.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/tokens.rs"]
mod tokens;

mod legacy;
mod outbox;
mod procs;
mod reach;
mod tests;
