//! `/api/devices`, `/api/me/preferences` and the email's `/unsubscribe` link.

use axum::{
    Json,
    extract::{Path, State},
    response::Html,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::{
    app::{
        AppState,
        reach::account::{self, DeviceInput, PreferencesInput},
    },
    domain::reach::preferences::Preferences,
    error::AppResult,
};

#[utoipa::path(
    post,
    path = "/api/devices",
    tag = "reach",
    summary = "Registers a push device",
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn register_device(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<DeviceInput>,
) -> AppResult<Json<Value>> {
    let device = account::register_device(&app, &who, input).await?;
    Ok(Json(json!({ "success": true, "device": device })))
}

#[utoipa::path(
    get,
    path = "/api/devices",
    tag = "reach",
    summary = "The caller's push devices",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn list_devices(State(app): State<AppState>, Caller(who): Caller) -> AppResult<Json<Value>> {
    let devices = account::devices(&app, &who).await?;
    Ok(Json(json!({ "success": true, "devices": devices })))
}

#[utoipa::path(
    delete,
    path = "/api/devices/{token}",
    tag = "reach",
    summary = "Removes a push device",
    params(("token" = String, Path, description = "the token")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn remove_device(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(token): Path<String>,
) -> AppResult<Json<Value>> {
    let removed = account::remove_device(&app, &who, &token).await?;
    Ok(Json(json!({ "success": true, "removed": removed })))
}

fn preferences_json(p: Preferences) -> Json<Value> {
    Json(json!({
        "success": true,
        "preferences": p,
        "email_notifications": p.email_notifications,
        "push_notifications": p.push_notifications,
    }))
}

#[utoipa::path(
    get,
    path = "/api/me/preferences",
    tag = "reach",
    summary = "The caller's email and push preferences",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn preferences(State(app): State<AppState>, Caller(who): Caller) -> AppResult<Json<Value>> {
    Ok(preferences_json(account::preferences(&app, &who).await?))
}

#[utoipa::path(
    put,
    path = "/api/me/preferences",
    tag = "reach",
    summary = "Changes the caller's preferences",
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn set_preferences(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<PreferencesInput>,
) -> AppResult<Json<Value>> {
    Ok(preferences_json(account::set_preferences(&app, &who, input).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct UnsubscribeQuery {
    #[serde(default)]
    token: String,
}

const PAGE_STYLE: &str = "font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem";

/// The link in the email: asks before turning email off, so a mail
/// scanner that follows links changes nothing.
#[utoipa::path(
    get,
    path = "/unsubscribe",
    tag = "reach",
    summary = "The unsubscribe page of an email link",
    params(crate::describe::openapi::UnsubscribeQuery),
    responses((status = 200, description = "A page", content_type = "text/html", body = String)),
    security(()),
)]
pub async fn unsubscribe_page(ApiQuery(q): ApiQuery<UnsubscribeQuery>) -> Html<String> {
    // The token is hex and a dot; anything else is dropped before it reaches the page.
    let token: String = q.token.chars().filter(|c| c.is_ascii_hexdigit() || *c == '.').collect();
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>Unsubscribe</title><body style=\"{PAGE_STYLE}\">\
         <h1>Stop emails about unread messages?</h1>\
         <form method=post action=\"?token={token}\"><button type=submit>Unsubscribe</button></form>"
    ))
}

/// One-click unsubscribe (`List-Unsubscribe-Post`), or the page's button.
#[utoipa::path(
    post,
    path = "/unsubscribe",
    tag = "reach",
    summary = "Unsubscribes by an email link (one click)",
    params(crate::describe::openapi::UnsubscribeQuery),
    responses((status = 200, description = "A page", content_type = "text/html", body = String)),
    security(()),
)]
pub async fn unsubscribe(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<UnsubscribeQuery>,
) -> AppResult<Html<String>> {
    account::unsubscribe(&app, &q.token).await?;
    Ok(Html(format!(
        "<!doctype html><meta charset=utf-8><title>Unsubscribed</title><body style=\"{PAGE_STYLE}\">\
         <h1>You are unsubscribed</h1><p>You will get no more emails about unread messages. \
         Turn them on again in your notification settings.</p>"
    )))
}
