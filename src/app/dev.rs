//! Development conveniences; none of this exists in production.

use serde::Deserialize;

use super::AppState;
use crate::{
    domain::{
        users::{Identity, Role},
        validate,
    },
    error::{AppError, AppResult},
};

pub const DEV_TOKEN_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    pub user_id: String,
    pub role: String,
    pub name: Option<String>,
}

pub struct Issued {
    pub token: String,
    pub identity: Identity,
}

/// A signed token for the demo page: any user id and role.
pub async fn token(app: &AppState, body: TokenRequest) -> AppResult<Issued> {
    let user_id = validate::user_id("user_id", body.user_id.trim())?;
    if user_id == app.settings.system_user_id {
        return Err(AppError::invalid_field("user_id", "is the system user, which cannot sign in"));
    }
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
    app.users.observe(&app.db, &identity, app.clock.now()).await?;
    Ok(Issued { token, identity })
}
