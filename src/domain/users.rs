//! Who is calling: the identity a token proves, and the user rows kept from
//! the claims.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use entity::user;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::clock::{self, Clock};
use crate::error::{AppError, AppResult};

/// User ids are opaque strings of 1..64 characters from `[A-Za-z0-9_.:-]`.
pub fn is_valid_user_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// The role column holds this many characters; a longer role claim is
/// kept whole in the identity and cut to fit when stored.
const MAX_STORED_ROLE_CHARS: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    BrandOwner,
    Influencer,
    Admin,
    /// The platform's own backend: the platform API only, never as a user.
    Service,
    /// Any other role: may use direct conversations only.
    Other(String),
}

impl Role {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "brand_owner" => Self::BrandOwner,
            "influencer" => Self::Influencer,
            "admin" => Self::Admin,
            "service" => Self::Service,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::BrandOwner => "brand_owner",
            Self::Influencer => "influencer",
            Self::Admin => "admin",
            Self::Service => "service",
            Self::Other(s) => s,
        }
    }
}

/// The caller, as proven by their token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub role: Role,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Identity {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn is_service(&self) -> bool {
        self.role == Role::Service
    }

    /// A `userId`/`senderId` a client put in its payload: never trusted,
    /// only checked to be the caller's own id (`FORBIDDEN` otherwise).
    pub fn must_be_self(&self, claimed: &[Option<&Value>]) -> AppResult<()> {
        for value in claimed.iter().flatten() {
            let claimed = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(AppError::forbidden("userId must be your own id")),
            };
            if claimed != self.user_id {
                return Err(AppError::forbidden("You may only act as yourself"));
            }
        }
        Ok(())
    }
}

/// The ids a payload may claim for its caller, in either spelling; added to
/// a payload with `#[serde(flatten)]` and checked with [`Claimed::check`].
#[derive(Debug, Default, serde::Deserialize)]
pub struct Claimed {
    #[serde(default, alias = "userId")]
    user_id: Option<Value>,
    #[serde(default, alias = "senderId")]
    sender_id: Option<Value>,
}

impl Claimed {
    pub fn check(&self, who: &Identity) -> AppResult<()> {
        who.must_be_self(&[self.user_id.as_ref(), self.sender_id.as_ref()])
    }
}

/// Remembers which claims were last written per user, so a busy client does
/// not rewrite its row on every request.
#[derive(Default)]
pub struct UserCache {
    seen: DashMap<String, Arc<Identity>>,
}

impl UserCache {
    /// Upserts the user from the token's claims: created on first sight;
    /// later tokens update name, email and phone. A row created as a mere
    /// reference (no role yet) takes its role from the first token.
    pub async fn observe(&self, db: &impl ConnectionTrait, identity: &Identity, now: DateTime<Utc>) -> AppResult<()> {
        if self.seen.get(&identity.user_id).is_some_and(|known| **known == *identity) {
            return Ok(());
        }
        let role: String = identity.role.as_str().chars().take(MAX_STORED_ROLE_CHARS).collect();
        let row = user::ActiveModel {
            id: sea_orm::Set(identity.user_id.clone()),
            role: sea_orm::Set(Some(role)),
            name: sea_orm::Set(identity.name.clone()),
            email: sea_orm::Set(identity.email.clone()),
            phone: sea_orm::Set(identity.phone.clone()),
            last_seen_at: sea_orm::Set(None),
            created_at: sea_orm::Set(now),
            updated_at: sea_orm::Set(now),
        };
        user::Entity::insert(row)
            .on_conflict(
                OnConflict::column(user::Column::Id)
                    .update_columns([
                        user::Column::Name,
                        user::Column::Email,
                        user::Column::Phone,
                        user::Column::UpdatedAt,
                    ])
                    .value(user::Column::Role, Expr::cust("COALESCE(users.role, excluded.role)"))
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        self.seen.insert(identity.user_id.clone(), Arc::new(identity.clone()));
        Ok(())
    }
}

/// Makes sure a user referred to by id has a row, without claiming a role.
pub async fn ensure_exists(db: &impl ConnectionTrait, user_id: &str, now: DateTime<Utc>) -> AppResult<()> {
    let row = user::ActiveModel {
        id: sea_orm::Set(user_id.to_string()),
        role: sea_orm::Set(None),
        name: sea_orm::Set(None),
        email: sea_orm::Set(None),
        phone: sea_orm::Set(None),
        last_seen_at: sea_orm::Set(None),
        created_at: sea_orm::Set(now),
        updated_at: sea_orm::Set(now),
    };
    user::Entity::insert(row)
        .on_conflict(OnConflict::column(user::Column::Id).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, user_id: &str) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(user_id.to_string()).one(db).await?)
}

pub async fn find_many(db: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<Vec<user::Model>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(user::Entity::find().filter(user::Column::Id.is_in(ids)).all(db).await?)
}

/// Records when users' last sockets closed. A wave of disconnects (a node
/// restart, a network blip) would otherwise be one commit per user; the
/// recorder writes whoever is waiting in one `UPDATE`, and each caller gets
/// the time stored for it once that commit is done.
#[derive(Clone)]
pub struct LastSeen {
    queue: mpsc::Sender<Seen>,
}

/// A user whose last socket closed, and where to answer with the time stored.
type Seen = (String, oneshot::Sender<Result<DateTime<Utc>, String>>);

/// Users whose last-seen time one statement sets at most.
const LAST_SEEN_BATCH: usize = 500;

impl LastSeen {
    pub fn start(db: DatabaseConnection, clock: Clock) -> Self {
        let (queue, mut waiting) = mpsc::channel::<Seen>(4096);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(LAST_SEEN_BATCH);
            while waiting.recv_many(&mut batch, LAST_SEEN_BATCH).await > 0 {
                let at = clock.now();
                let mut ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
                ids.sort_unstable();
                ids.dedup();
                let stored = user::Entity::update_many()
                    .col_expr(user::Column::LastSeenAt, Expr::value(at))
                    .filter(user::Column::Id.is_in(ids))
                    .exec(&db)
                    .await
                    .map(|_| at)
                    .map_err(|e| e.to_string());
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(stored.clone());
                }
            }
        });
        Self { queue }
    }

    /// Stores "last seen now" for a user; returns the time stored.
    pub async fn record(&self, user_id: &str) -> AppResult<DateTime<Utc>> {
        let (reply, stored) = oneshot::channel();
        self.queue
            .send((user_id.to_string(), reply))
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("last-seen recorder stopped")))?;
        stored
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("last-seen recorder dropped a user")))?
            .map_err(|e| AppError::internal(anyhow::anyhow!("storing last seen: {e}")))
    }
}

/// What one participant sees of the other: no email or phone.
pub fn public_profile(id: &str, row: Option<&user::Model>, online: bool) -> Value {
    json!({
        "id": id,
        "name": row.and_then(|u| u.name.clone()),
        "role": row.and_then(|u| u.role.clone()),
        "is_online": online,
        "last_seen": row.and_then(|u| u.last_seen_at).map(|t| clock::rfc3339(&t)),
    })
}
