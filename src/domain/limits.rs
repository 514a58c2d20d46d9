//! Per-user rate limits: token buckets, shared by the nodes in Redis when it
//! is configured (each node falls back to its own buckets while Redis is
//! away), in memory otherwise.

use std::time::Instant;

use dashmap::DashMap;
use prometheus_client::metrics::{counter::Counter, family::Family};
use redis::{RedisResult, Script};

use crate::{
    cluster::Redis,
    config::{RateLimit, RateLimits},
    error::{AppError, AppResult},
    metrics::LimitLabels,
};

/// What a budget limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    Messages,
    Typing,
    /// Flow actions (buttons and inputs).
    Actions,
    /// Every other change a client asks for.
    Writes,
    Connections,
}

impl Limit {
    fn as_str(self) -> &'static str {
        match self {
            Limit::Messages => "messages",
            Limit::Typing => "typing",
            Limit::Actions => "actions",
            Limit::Writes => "rest_writes",
            Limit::Connections => "connections",
        }
    }
}

/// Whose budget is spent: a user's, or (for attempts that prove no user)
/// the address they come from. The two never share a key.
#[derive(Clone, Copy, Debug)]
pub enum Spender<'a> {
    User(&'a str),
    Address(std::net::IpAddr),
}

impl Spender<'_> {
    fn key(&self) -> String {
        match self {
            Spender::User(id) => format!("u:{id}"),
            Spender::Address(ip) => format!("a:{ip}"),
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
    local: DashMap<(Limit, String), Bucket>,
    redis: Option<Redis>,
    refused: Option<Family<LimitLabels, Counter>>,
}

impl Limiter {
    pub fn new(settings: RateLimits, redis: Option<Redis>) -> Self {
        Self { settings, local: DashMap::new(), redis, refused: None }
    }

    /// Counts refusals, by limit, in `refused`.
    pub fn counting(mut self, refused: Family<LimitLabels, Counter>) -> Self {
        self.refused = Some(refused);
        self
    }

    fn limit(&self, kind: Limit) -> RateLimit {
        match kind {
            Limit::Messages => self.settings.messages,
            Limit::Typing => self.settings.typing,
            Limit::Actions => self.settings.actions,
            Limit::Writes => self.settings.rest_writes,
            Limit::Connections => self.settings.connections,
        }
    }

    /// Spends one unit of `kind` from `who`'s budget, or answers `RATE_LIMITED`.
    pub async fn check(&self, kind: Limit, who: Spender<'_>) -> AppResult<()> {
        if !self.settings.enabled {
            return Ok(());
        }
        let key = who.key();
        let key = key.as_str();
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
            if let Some(refused) = &self.refused {
                refused.get_or_create(&LimitLabels { limit: kind.as_str().to_string() }).inc();
            }
            Err(AppError::rate_limited(wait_ms))
        }
    }

    /// Forgets buckets that have refilled completely: a full bucket is the
    /// same as none, and keys include client addresses, so without this the
    /// map grows for as long as the node runs.
    pub fn evict_idle(&self) -> usize {
        self.evict_idle_at(Instant::now())
    }

    fn evict_idle_at(&self, now: Instant) -> usize {
        let before = self.local.len();
        self.local.retain(|(kind, _), b| {
            let limit = self.limit(*kind);
            let refilled = b.tokens + now.duration_since(b.at).as_secs_f64() * limit.per_second;
            refilled < limit.burst as f64
        });
        before - self.local.len()
    }

    fn take_local(&self, kind: Limit, key: &str, limit: RateLimit) -> u64 {
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
            limiter.check(Limit::Messages, Spender::User("u")).await.unwrap();
        }
        let err = limiter.check(Limit::Messages, Spender::User("u")).await.unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::RateLimited);
        let wait = err.details.unwrap()["retry_after_ms"].as_u64().unwrap();
        assert!((1..=1000).contains(&wait), "{wait}");
        // Other users and other kinds have their own buckets.
        limiter.check(Limit::Messages, Spender::User("v")).await.unwrap();
        limiter.check(Limit::Typing, Spender::User("u")).await.unwrap();
    }

    #[tokio::test]
    async fn users_and_addresses_never_share_a_bucket() {
        let limiter = Limiter::new(settings(1), None);
        let addr: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        limiter.check(Limit::Connections, Spender::Address(addr)).await.unwrap();
        assert!(limiter.check(Limit::Connections, Spender::Address(addr)).await.is_err());
        // A user whose id looks like the address's key has a budget of its own.
        limiter.check(Limit::Connections, Spender::User("ip:127.0.0.1")).await.unwrap();
        limiter.check(Limit::Connections, Spender::User("a:127.0.0.1")).await.unwrap();
    }

    #[tokio::test]
    async fn refilled_buckets_are_forgotten() {
        let mut s = settings(2);
        s.messages.per_second = 1000.0;
        let limiter = Limiter::new(s, None);
        limiter.check(Limit::Messages, Spender::User("u")).await.unwrap();
        limiter.check(Limit::Typing, Spender::User("u")).await.unwrap();
        // 5 ms on, the message bucket has refilled (2 ms); the typing one takes a second.
        assert_eq!(limiter.evict_idle_at(Instant::now() + std::time::Duration::from_millis(5)), 1);
        assert_eq!(limiter.local.len(), 1);
    }

    #[tokio::test]
    async fn disabled_limits_never_refuse() {
        let mut s = settings(1);
        s.enabled = false;
        let limiter = Limiter::new(s, None);
        for _ in 0..100 {
            limiter.check(Limit::Messages, Spender::User("u")).await.unwrap();
        }
    }
}
