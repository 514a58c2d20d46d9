#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Integration tests against a real server: HTTP and Socket.IO as clients
//! use them. Set TEST_DATABASE_URL to run them on PostgreSQL.

mod support;
#[path = "../common/tokens.rs"]
mod tokens;

mod auth;
mod conversation_settings;
mod described;
mod flow;
mod gateway;
mod hardening;
mod health;
mod message_ops;
mod messages;
mod notifications;
mod pagination;
mod payments;
mod platform;
mod presence;
mod presend;
mod reach_email;
mod reach_push;
mod rooms;
mod seen;
mod time_rules;
mod typing;
mod webhooks;
