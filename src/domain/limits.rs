//! Per-user rate limits: token buckets, shared by the nodes in Redis when it
//! is configured (each node falls back to its own buckets while Redis is
//! away), in memory otherwise.

use std::time::Instant;

use dashmap::DashMap;
use redis::{RedisResult, Script};

use crate::{
    cluster::Redis,
    config::{RateLimit, RateLimits},
    error::{AppError, AppResult},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Messages,
    Typing,
    Actions,
    RestWrites,
    Connections,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Messages => "messages",
            Kind::Typing => "typing",
            Kind::Actions => "actions",
            Kind::RestWrites => "rest_writes",
            Kind::Connections => "connections",
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Takes one token or says how long until one is there, atomically in Redis
/// and on Redis's clock, so every node sees one bucket.
const TAKE: &str = r"
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_ms)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / per_ms)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / per_ms) + 1000)
return wait
";

pub struct Limiter {
    settings: RateLimits,
    local: DashMap<(Kind, String), Bucket>,
    redis: Option<Redis>,
}

impl Limiter {
    pub fn new(settings: RateLimits, redis: Option<Redis>) -> Self {
        Self { settings, local: DashMap::new(), redis }
    }

    fn limit(&self, kind: Kind) -> RateLimit {
        match kind {
            Kind::Messages => self.settings.messages,
            Kind::Typing => self.settings.typing,
            Kind::Actions => self.settings.actions,
            Kind::RestWrites => self.settings.rest_writes,
            Kind::Connections => self.settings.connections,
        }
    }

    /// Spends one unit of `kind` for `key` (a user id, or an address for
    /// unauthenticated attempts), or answers `RATE_LIMITED`.
    pub async fn check(&self, kind: Kind, key: &str) -> AppResult<()> {
        if !self.settings.enabled {
            return Ok(());
        }
        let limit = self.limit(kind);
        let wait_ms = match &self.redis {
            Some(redis) if redis.is_healthy() => {
                let result: RedisResult<i64> = Script::new(TAKE)
                    .key(format!("parley:rl:{}:{key}", kind.as_str()))
                    .arg(limit.burst)
                    .arg(limit.per_second / 1000.0)
                    .invoke_async(&mut redis.conn.clone())
                    .await;
                redis.observe(&result);
                match result {
                    Ok(wait) => wait.max(0) as u64,
                    Err(_) => self.take_local(kind, key, limit),
                }
            }
            _ => self.take_local(kind, key, limit),
        };
        if wait_ms == 0 {
            Ok(())
        } else {
            tracing::debug!(kind = kind.as_str(), key, wait_ms, "rate limited");
            Err(AppError::rate_limited(wait_ms))
        }
    }

    fn take_local(&self, kind: Kind, key: &str, limit: RateLimit) -> u64 {
        let now = Instant::now();
        let mut bucket =
            self.local.entry((kind, key.to_string())).or_insert_with(|| Bucket { tokens: limit.burst as f64, at: now });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(limit.burst as f64);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            0
        } else {
            ((1.0 - bucket.tokens) / limit.per_second * 1000.0).ceil() as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(burst: u32) -> RateLimits {
        let l = RateLimit { burst, per_second: 1.0 };
        RateLimits { enabled: true, messages: l, typing: l, actions: l, rest_writes: l, connections: l }
    }

    #[tokio::test]
    async fn a_burst_passes_then_the_flood_is_refused_with_a_wait() {
        let limiter = Limiter::new(settings(3), None);
        for _ in 0..3 {
            limiter.check(Kind::Messages, "u").await.unwrap();
        }
        let err = limiter.check(Kind::Messages, "u").await.unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::RateLimited);
        let wait = err.details.unwrap()["retry_after_ms"].as_u64().unwrap();
        assert!((1..=1000).contains(&wait), "{wait}");
        // Other users and other kinds have their own buckets.
        limiter.check(Kind::Messages, "v").await.unwrap();
        limiter.check(Kind::Typing, "u").await.unwrap();
    }

    #[tokio::test]
    async fn disabled_limits_never_refuse() {
        let mut s = settings(1);
        s.enabled = false;
        let limiter = Limiter::new(s, None);
        for _ in 0..100 {
            limiter.check(Kind::Messages, "u").await.unwrap();
        }
    }
}
