//! Development conveniences; none of this exists in production.

use axum::{Json, extract::State};
use serde_json::{Value, json};

use super::extract::ApiJson;
use crate::{
    app::{
        AppState,
        dev::{self, DEV_TOKEN_TTL_SECS, TokenRequest},
    },
    error::AppResult,
};

/// `POST /api/dev/token {user_id, role, name?}`: a signed token for the demo page.
#[utoipa::path(
    post,
    path = "/api/dev/token",
    tag = "development",
    summary = "A signed development token (not in production)",
    request_body = crate::describe::openapi::DevTokenBody,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(()),
)]
pub async fn token(State(app): State<AppState>, ApiJson(body): ApiJson<TokenRequest>) -> AppResult<Json<Value>> {
    let issued = dev::token(&app, body).await?;
    let who = &issued.identity;
    Ok(Json(json!({
        "success": true,
        "token": issued.token,
        "user": { "id": who.user_id, "role": who.role.as_str(), "name": who.name },
        "expires_in": DEV_TOKEN_TTL_SECS,
    })))
}
