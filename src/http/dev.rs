//! Development conveniences; none of this exists in production.

use axum::{Json, extract::State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::ApiJson;
use crate::{
    domain::{
        users::{Identity, Role},
        validate,
    },
    error::{AppError, AppResult},
    state::AppState,
};

const DEV_TOKEN_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Deserialize)]
pub struct TokenRequest {
    user_id: String,
    role: String,
    name: Option<String>,
}

/// `POST /api/dev/token {user_id, role, name?}`: a signed token for the demo page.
pub async fn token(State(app): State<AppState>, ApiJson(body): ApiJson<TokenRequest>) -> AppResult<Json<Value>> {
    let user_id = validate::user_id("user_id", body.user_id.trim())?;
    let role = body.role.trim();
    if role.is_empty() || role.len() > 32 {
        return Err(AppError::invalid_field(
            "role",
            "must be brand_owner, influencer, admin or another short role name",
        ));
    }
    let identity = Identity {
        user_id,
        role: Role::parse(role),
        name: validate::optional_text("name", body.name.as_deref(), 100)?,
        email: None,
        phone: None,
    };
    let token = app.verifier.issue(&identity, DEV_TOKEN_TTL_SECS)?;
    app.users.observe(&app.db, &identity).await?;
    Ok(Json(json!({
        "success": true,
        "token": token,
        "user": { "id": identity.user_id, "role": identity.role.as_str(), "name": identity.name },
        "expires_in": DEV_TOKEN_TTL_SECS,
    })))
}
