//! A user's devices and preferences, and the unsubscribe link of the
//! offline email.

use parley_outbound::mail::unsubscribe;
use serde::Deserialize;
use serde_json::Value;

use super::super::AppState;
use crate::{
    domain::{
        limits::Limit,
        reach::{
            devices,
            preferences::{self, Preferences},
        },
        users::Identity,
    },
    error::{AppError, AppResult},
};

#[derive(Debug, Deserialize)]
pub struct DeviceInput {
    pub platform: String,
    pub token: String,
}

/// Registers a device (again): idempotent; the user's oldest past 25 are dropped.
pub async fn register_device(app: &AppState, who: &Identity, input: DeviceInput) -> AppResult<Value> {
    app.spend(Limit::Writes, who).await?;
    let platform = input.platform.trim().to_ascii_lowercase();
    devices::validate(&platform, &input.token)?;
    let txn = crate::db::begin_write(&app.db).await?;
    let device = devices::register(&txn, &who.user_id, &platform, &input.token, app.clock.now()).await?;
    txn.commit().await?;
    Ok(devices::json(&device))
}

/// Removes one of the caller's devices; true when it was registered.
/// Removing a token twice (or another user's) changes nothing.
pub async fn remove_device(app: &AppState, who: &Identity, token: &str) -> AppResult<bool> {
    app.spend(Limit::Writes, who).await?;
    devices::unregister(&app.db, &who.user_id, token.trim()).await
}

pub async fn devices(app: &AppState, who: &Identity) -> AppResult<Vec<Value>> {
    Ok(devices::of_user(&app.db, &who.user_id).await?.iter().map(devices::json).collect())
}

pub async fn preferences(app: &AppState, who: &Identity) -> AppResult<Preferences> {
    preferences::get(&app.db, &who.user_id).await
}

#[derive(Debug, Default, Deserialize)]
pub struct PreferencesInput {
    #[serde(default)]
    pub email_notifications: Option<bool>,
    #[serde(default)]
    pub push_notifications: Option<bool>,
}

/// Changes the fields given; the others keep their value.
pub async fn set_preferences(app: &AppState, who: &Identity, input: PreferencesInput) -> AppResult<Preferences> {
    app.spend(Limit::Writes, who).await?;
    preferences::set(&app.db, &who.user_id, input.email_notifications, input.push_notifications, app.clock.now()).await
}

/// The unsubscribe link's token turns the user's email off. Anyone holding
/// the link may do that, and nothing else.
pub async fn unsubscribe(app: &AppState, token: &str) -> AppResult<()> {
    let user_id = unsubscribe::verify(&app.reach.unsubscribe_secret, token.trim())
        .ok_or_else(|| AppError::not_found("Unsubscribe link"))?;
    preferences::set(&app.db, &user_id, Some(false), None, app.clock.now()).await?;
    Ok(())
}
