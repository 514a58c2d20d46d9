//! Presence shared by several nodes in Redis.
//!
//! Keys: `parley:p:u:{user}` (hash `{node}|{sid}` → online_at) counts a
//! user's sockets everywhere; `parley:p:c:{conversation}` (hash
//! `{node}|{sid}` → `{user, meta}`) is a conversation's presence;
//! `parley:p:n:{node}:socks` / `:convs` list what a node registered, so that
//! another node can remove it when the node's heartbeat key
//! `parley:p:alive:{node}` expires.

use std::{collections::BTreeMap, time::Duration};

use redis::{AsyncCommands, RedisResult, Script};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Disconnected, LocalPresence};
use crate::{
    cluster::Redis,
    domain::clock::{self, Clock},
};

const NODES: &str = "parley:p:nodes";

fn user_key(user: &str) -> String {
    format!("parley:p:u:{user}")
}
fn status_key(user: &str) -> String {
    format!("parley:p:s:{user}")
}
fn conv_key(conv: Uuid) -> String {
    format!("parley:p:c:{conv}")
}
fn node_socks(node: &str) -> String {
    format!("parley:p:n:{node}:socks")
}
fn node_convs(node: &str) -> String {
    format!("parley:p:n:{node}:convs")
}
fn alive_key(node: &str) -> String {
    format!("parley:p:alive:{node}")
}

/// Registers a socket and counts the user's sockets, atomically.
const CONNECT: &str = r"
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return redis.call('HLEN', KEYS[1])
";

/// Removes a socket and counts what is left, atomically: exactly one
/// disconnect sees zero.
const DISCONNECT: &str = r"
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
local n = redis.call('HLEN', KEYS[1])
if n == 0 then redis.call('DEL', KEYS[3]) end
return n
";

/// What clearing up after a dead node found.
#[derive(Default, Debug)]
pub struct Reaped {
    /// Users with no socket left anywhere.
    pub offline: Vec<String>,
    /// `(conversation, user, meta)` of the dead node's joins.
    pub leaves: Vec<(Uuid, String, Value)>,
}

pub struct SharedPresence {
    local: LocalPresence,
    redis: Redis,
    ttl: Duration,
}

impl SharedPresence {
    pub fn new(redis: Redis, ttl: Duration, clock: Clock) -> Self {
        Self { local: LocalPresence::new(clock), redis, ttl }
    }

    fn field(&self, sid: &str) -> String {
        format!("{}|{sid}", self.redis.node_id)
    }

    fn conn(&self) -> redis::aio::ConnectionManager {
        self.redis.conn.clone()
    }

    fn checked<T>(&self, result: RedisResult<T>) -> Option<T> {
        self.redis.observe(&result);
        result.ok()
    }

    pub async fn connect(&self, user: &str, sid: &str) -> bool {
        let first_here = self.local.connect(user, sid);
        let result: RedisResult<i64> = Script::new(CONNECT)
            .key(user_key(user))
            .key(node_socks(&self.redis.node_id))
            .arg(self.field(sid))
            .arg(clock::rfc3339(&self.local.now()))
            .arg(format!("{user}|{sid}"))
            .invoke_async(&mut self.conn())
            .await;
        // Without Redis, this node can only speak for its own sockets.
        self.checked(result).map(|n| n == 1).unwrap_or(first_here)
    }

    pub async fn disconnect(&self, user: &str, sid: &str) -> Disconnected {
        let here = self.local.disconnect(user, sid);
        let mut conn = self.conn();
        for (conv, _) in &here.left {
            let result: RedisResult<i64> = conn.hdel(conv_key(*conv), self.field(sid)).await;
            self.checked(result);
        }
        let _: Option<i64> = self.checked(
            conn.srem(
                node_convs(&self.redis.node_id),
                here.left.iter().map(|(c, _)| format!("{c}|{sid}")).collect::<Vec<_>>(),
            )
            .await,
        );
        let result: RedisResult<i64> = Script::new(DISCONNECT)
            .key(user_key(user))
            .key(node_socks(&self.redis.node_id))
            .key(status_key(user))
            .arg(self.field(sid))
            .arg(format!("{user}|{sid}"))
            .invoke_async(&mut conn)
            .await;
        let last = self.checked(result).map(|n| n == 0).unwrap_or(here.last);
        Disconnected { last, left: here.left }
    }

    pub async fn is_online(&self, user: &str) -> bool {
        let result: RedisResult<i64> = self.conn().hlen(user_key(user)).await;
        self.checked(result).map(|n| n > 0).unwrap_or_else(|| self.local.is_online(user))
    }

    pub async fn set_status(&self, user: &str, status: &str) {
        self.local.set_status(user, status);
        let result: RedisResult<()> = self.conn().set(status_key(user), status).await;
        self.checked(result);
    }

    pub async fn join(&self, conv: Uuid, user: &str, sid: &str) -> Option<Value> {
        let meta = self.local.join(conv, user, sid)?;
        self.register_join(conv, user, sid, &meta).await;
        Some(meta)
    }

    async fn register_join(&self, conv: Uuid, user: &str, sid: &str, meta: &Value) {
        let mut conn = self.conn();
        let entry = json!({ "user": user, "meta": meta }).to_string();
        let a: RedisResult<()> = conn.hset(conv_key(conv), self.field(sid), entry).await;
        self.checked(a);
        let b: RedisResult<()> = conn.sadd(node_convs(&self.redis.node_id), format!("{conv}|{sid}")).await;
        self.checked(b);
    }

    pub async fn leave(&self, conv: Uuid, user: &str, sid: &str) -> Option<Value> {
        let meta = self.local.leave(conv, user, sid)?;
        let mut conn = self.conn();
        let a: RedisResult<()> = conn.hdel(conv_key(conv), self.field(sid)).await;
        self.checked(a);
        let b: RedisResult<()> = conn.srem(node_convs(&self.redis.node_id), format!("{conv}|{sid}")).await;
        self.checked(b);
        Some(meta)
    }

    /// Every node's sockets in the conversation, with each user's current status.
    pub async fn conversation_state(&self, conv: Uuid) -> Value {
        let mut conn = self.conn();
        let result: RedisResult<BTreeMap<String, String>> = conn.hgetall(conv_key(conv)).await;
        let Some(entries) = self.checked(result) else {
            return self.local.conversation_state(conv);
        };
        let mut state: Map<String, Value> = Map::new();
        for raw in entries.values() {
            let Ok(entry) = serde_json::from_str::<Value>(raw) else { continue };
            let Some(user) = entry["user"].as_str() else { continue };
            let mut meta = entry["meta"].clone();
            let status: RedisResult<Option<String>> = conn.get(status_key(user)).await;
            meta["status"] = json!(self.checked(status).flatten().unwrap_or_else(|| "online".into()));
            let slot = state.entry(user.to_string()).or_insert_with(|| json!({ "metas": [] }));
            if let Some(metas) = slot["metas"].as_array_mut() {
                metas.push(meta);
            }
        }
        Value::Object(state)
    }

    /// Refreshes this node's heartbeat; returns false when Redis is away.
    pub async fn heartbeat(&self) -> bool {
        let mut conn = self.conn();
        let ttl = self.ttl.as_millis() as u64;
        let a: RedisResult<()> = conn.pset_ex(alive_key(&self.redis.node_id), 1, ttl).await;
        let ok = a.is_ok();
        self.checked(a);
        let b: RedisResult<()> = conn.sadd(NODES, &self.redis.node_id).await;
        self.checked(b);
        ok
    }

    /// Registers this node's sockets and joins again (after Redis came back
    /// empty-handed, or restarted).
    pub async fn resync(&self) {
        let super::local::Snapshot { sockets, joins } = self.local.snapshot();
        let mut conn = self.conn();
        for (user, sid, online_at) in sockets {
            let a: RedisResult<()> = conn.hset(user_key(&user), self.field(&sid), online_at).await;
            self.checked(a);
            let b: RedisResult<()> = conn.sadd(node_socks(&self.redis.node_id), format!("{user}|{sid}")).await;
            self.checked(b);
            let status = self.local.status(&user);
            if status != "online" {
                let c: RedisResult<()> = conn.set(status_key(&user), status).await;
                self.checked(c);
            }
        }
        for (conv, sid, user, meta) in joins {
            self.register_join(conv, &user, &sid, &meta).await;
        }
        tracing::info!("presence registered again in Redis");
    }

    /// Clears up after nodes whose heartbeat expired. One live node wins a
    /// short lock per dead node, so each is cleared (and reported) once.
    pub async fn reap(&self) -> Reaped {
        let mut reaped = Reaped::default();
        let mut conn = self.conn();
        let nodes: RedisResult<Vec<String>> = conn.smembers(NODES).await;
        let Some(nodes) = self.checked(nodes) else { return reaped };
        for node in nodes.into_iter().filter(|n| *n != self.redis.node_id) {
            let alive: RedisResult<bool> = conn.exists(alive_key(&node)).await;
            if self.checked(alive) != Some(false) {
                continue;
            }
            let lock: RedisResult<Option<String>> = redis::cmd("SET")
                .arg(format!("parley:p:reap:{node}"))
                .arg(&self.redis.node_id)
                .arg("NX")
                .arg("PX")
                .arg(60_000)
                .query_async(&mut conn)
                .await;
            if self.checked(lock).flatten().is_none() {
                continue;
            }
            tracing::warn!(node = %node, "a node stopped without saying goodbye: clearing its presence");
            let socks: RedisResult<Vec<String>> = conn.smembers(node_socks(&node)).await;
            for member in self.checked(socks).unwrap_or_default() {
                let Some((user, sid)) = member.split_once('|') else { continue };
                let result: RedisResult<i64> = Script::new(DISCONNECT)
                    .key(user_key(user))
                    .key(node_socks(&node))
                    .key(status_key(user))
                    .arg(format!("{node}|{sid}"))
                    .arg(&member)
                    .invoke_async(&mut conn)
                    .await;
                if self.checked(result) == Some(0) && !reaped.offline.iter().any(|u| u == user) {
                    reaped.offline.push(user.to_string());
                }
            }
            let convs: RedisResult<Vec<String>> = conn.smembers(node_convs(&node)).await;
            for member in self.checked(convs).unwrap_or_default() {
                let Some((conv, sid)) = member.split_once('|') else { continue };
                let Ok(conv) = Uuid::parse_str(conv) else { continue };
                let field = format!("{node}|{sid}");
                let entry: RedisResult<Option<String>> = conn.hget(conv_key(conv), &field).await;
                if let Some(Some(raw)) = self.checked(entry)
                    && let Ok(entry) = serde_json::from_str::<Value>(&raw)
                {
                    let user = entry["user"].as_str().unwrap_or_default().to_string();
                    reaped.leaves.push((conv, user, entry["meta"].clone()));
                }
                let del: RedisResult<()> = conn.hdel(conv_key(conv), &field).await;
                self.checked(del);
            }
            let cleanup: RedisResult<()> = redis::pipe()
                .del(node_socks(&node))
                .del(node_convs(&node))
                .srem(NODES, &node)
                .query_async(&mut conn)
                .await;
            self.checked(cleanup);
        }
        reaped
    }

    /// Says goodbye: the heartbeat goes at once rather than expiring.
    pub async fn leave_cluster(&self) {
        let mut conn = self.conn();
        let result: RedisResult<()> = redis::pipe()
            .del(alive_key(&self.redis.node_id))
            .del(node_socks(&self.redis.node_id))
            .del(node_convs(&self.redis.node_id))
            .srem(NODES, &self.redis.node_id)
            .query_async(&mut conn)
            .await;
        self.checked(result);
    }
}
