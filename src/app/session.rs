//! Who is calling: the token alone decides, for REST requests, socket
//! connections and the older protocol's `authenticate` event alike.

use std::{fmt, net::IpAddr};

use super::AppState;
use crate::{
    domain::{
        limits::{Limit, Spender},
        moderation::bans,
        users::Identity,
    },
    error::{AppError, AppResult},
};

/// Why a connection was refused: its `connect_error` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unauthorized,
    /// The user is banned (section 13).
    Banned,
    RateLimited,
    ShuttingDown,
    Internal,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unauthorized => "unauthorized",
            Self::Banned => "banned",
            Self::RateLimited => "rate_limited",
            Self::ShuttingDown => "server_shutting_down",
            Self::Internal => "Internal error",
        })
    }
}

impl std::error::Error for Refusal {}

/// The identity a token proves, for any caller. The system user speaks
/// only through the server itself: a token naming it is refused.
fn verify(app: &AppState, token: &str) -> AppResult<Identity> {
    let who = app.verifier.verify(token)?;
    if who.user_id == app.settings.system_user_id {
        tracing::warn!("a token naming the system user was refused");
        return Err(AppError::unauthorized());
    }
    Ok(who)
}

/// Keeps the user row in step with the token's claims.
async fn observe(app: &AppState, who: &Identity) -> AppResult<()> {
    app.users.observe(&app.db, who, app.clock.now()).await
}

/// `USER_BANNED` while a ban is in force. Read from the database on every
/// call, so a ban made on any node applies on all of them at once.
async fn not_banned(app: &AppState, who: &Identity) -> AppResult<()> {
    match bans::active(&app.db, &who.user_id, app.clock.now()).await? {
        Some(ban) => Err(bans::refused(&ban)),
        None => Ok(()),
    }
}

/// The user calling an HTTP request. Service tokens are for the platform
/// API alone.
pub async fn request(app: &AppState, token: Option<&str>) -> AppResult<Identity> {
    let who = verify(app, token.ok_or_else(AppError::unauthorized)?)?;
    if who.is_service() {
        return Err(AppError::forbidden("Service tokens may call the platform API only"));
    }
    observe(app, &who).await?;
    not_banned(app, &who).await?;
    Ok(who)
}

/// The platform's backend calling the platform API: a `service` token.
pub async fn service(app: &AppState, token: Option<&str>) -> AppResult<Identity> {
    let who = verify(app, token.ok_or_else(AppError::unauthorized)?)?;
    if !who.is_service() {
        return Err(AppError::forbidden("The platform API takes service tokens only"));
    }
    Ok(who)
}

/// An administrator calling an admin route.
pub async fn admin(app: &AppState, token: Option<&str>) -> AppResult<Identity> {
    let who = request(app, token).await?;
    if !who.is_admin() {
        return Err(AppError::forbidden("Administrators only"));
    }
    Ok(who)
}

/// The user a new connection is for. Failed attempts count against the
/// address they come from, accepted ones against the user.
pub async fn connection(app: &AppState, token: Option<&str>, peer: Option<IpAddr>) -> Result<Identity, Refusal> {
    if app.is_draining() {
        return Err(Refusal::ShuttingDown);
    }
    let who = match token.map(|t| verify(app, t)) {
        // A service is not a user: it never holds a socket.
        Some(Ok(who)) if !who.is_service() => who,
        _ => {
            if let Some(ip) = peer
                && app.limiter.check(Limit::Connections, Spender::Address(ip)).await.is_err()
            {
                return Err(Refusal::RateLimited);
            }
            return Err(Refusal::Unauthorized);
        }
    };
    if app.limiter.check(Limit::Connections, Spender::User(&who.user_id)).await.is_err() {
        return Err(Refusal::RateLimited);
    }
    if let Err(e) = observe(app, &who).await {
        e.log_and_drop("recording a connecting user");
        return Err(Refusal::Internal);
    }
    match not_banned(app, &who).await {
        Ok(()) => Ok(who),
        Err(e) if e.code == crate::error::ErrorCode::UserBanned => Err(Refusal::Banned),
        Err(e) => {
            e.log_and_drop("checking a connecting user's ban");
            Err(Refusal::Internal)
        }
    }
}
