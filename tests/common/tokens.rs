//! Tokens and ids for tests, signed the way a platform backend signs its
//! users' access tokens.

use serde_json::{Value, json};

pub fn sign(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign token")
}

pub fn exp_in(secs: i64) -> i64 {
    chrono::Utc::now().timestamp() + secs
}

/// A valid token for `user` with `role`, signed with `secret`.
pub fn token_for(secret: &str, user: &str, role: &str) -> String {
    sign(json!({ "id": user, "role": role, "name": format!("{user} name"), "exp": exp_in(3600) }), secret)
}

/// A fresh user id, so tests never collide.
pub fn uid(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::now_v7().simple().to_string()[20..])
}
