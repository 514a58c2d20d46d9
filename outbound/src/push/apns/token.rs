//! The APNs provider token: an ES256 JWT (`kid` = key id, `iss` = team id,
//! `iat`) that Apple accepts for an hour. It is reused, and replaced after 50
//! minutes; Apple also refuses tokens replaced more often than every 20.

use std::{sync::Mutex, time::Duration};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;

use crate::clock::Clock;

/// How long one provider token is used.
pub(crate) const TOKEN_REUSE: Duration = Duration::from_secs(50 * 60);

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: u64,
}

#[derive(Clone)]
struct Current {
    jwt: String,
    iat: u64,
}

pub(crate) struct ProviderTokens {
    key: EncodingKey,
    key_id: String,
    team_id: String,
    current: Mutex<Option<Current>>,
}

impl ProviderTokens {
    pub fn new(key: EncodingKey, key_id: String, team_id: String) -> Self {
        Self { key, key_id, team_id, current: Mutex::new(None) }
    }

    pub fn sign(&self, iat: u64) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        header.typ = None;
        encode(&header, &Claims { iss: &self.team_id, iat }, &self.key)
    }

    /// The token to use now: the current one while it is younger than
    /// [`TOKEN_REUSE`], else a new one.
    pub fn get(&self, clock: &dyn Clock) -> Result<String, jsonwebtoken::errors::Error> {
        let now = clock.unix_secs();
        let mut current = self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(c) = current.as_ref().filter(|c| now >= c.iat && now - c.iat < TOKEN_REUSE.as_secs()) {
            return Ok(c.jwt.clone());
        }
        let jwt = self.sign(now)?;
        *current = Some(Current { jwt: jwt.clone(), iat: now });
        Ok(jwt)
    }

    /// Drops `jwt` after Apple called it expired, unless it was replaced already.
    pub fn forget(&self, jwt: &str) {
        let mut current = self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if current.as_ref().is_some_and(|c| c.jwt == jwt) {
            *current = None;
        }
    }
}
