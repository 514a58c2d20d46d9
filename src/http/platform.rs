//! `/api/platform/...`: the marketplace's backend, with a service token.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::extract::{ApiJson, Service};
use crate::{
    app::{
        AppState,
        platform::{self, NotificationInput, SystemMessageInput},
    },
    error::AppResult,
};

type Created = (StatusCode, Json<Value>);

fn created_or_ok(created: bool, body: Value) -> Created {
    (if created { StatusCode::CREATED } else { StatusCode::OK }, Json(body))
}

pub async fn notify(
    State(app): State<AppState>,
    Service(service): Service,
    ApiJson(input): ApiJson<NotificationInput>,
) -> AppResult<Created> {
    let out = platform::notify(&app, &service, input).await?;
    Ok(created_or_ok(out.created, json!({ "success": true, "notification": out.value })))
}

pub async fn system_message(
    State(app): State<AppState>,
    Service(service): Service,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SystemMessageInput>,
) -> AppResult<Created> {
    let out = platform::system_message(&app, &service, &id, input).await?;
    Ok(created_or_ok(out.created, json!({ "success": true, "message": out.value })))
}
