//! Several nodes through Redis: a shared command connection that reconnects
//! by itself, and whether Redis is reachable right now (for `/readyz`).

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Redis as the nodes share it. Cloning shares the connection.
#[derive(Clone)]
pub struct Redis {
    pub client: redis::Client,
    pub conn: ConnectionManager,
    healthy: Arc<AtomicBool>,
    /// The pub/sub connection of the adapter: an idle subscriber only
    /// notices a lost connection (and resubscribes) when it is used.
    pubsub: Arc<OnceLock<ConnectionManager>>,
    /// This node's id, unique per process.
    pub node_id: String,
}

/// The URL with RESP3 selected, which pub/sub push messages need.
pub fn resp3_url(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

pub fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(2))
        .set_number_of_retries(2)
}

impl Redis {
    /// Connects, retrying for a few seconds so nodes and Redis can start together.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(resp3_url(url)).context("REDIS_URL is not a valid Redis URL")?;
        let mut last = None;
        for attempt in 0..20 {
            match ConnectionManager::new_with_config(client.clone(), manager_config()).await {
                Ok(conn) => {
                    return Ok(Self {
                        client,
                        conn,
                        healthy: Arc::new(AtomicBool::new(true)),
                        pubsub: Arc::default(),
                        node_id: uuid::Uuid::now_v7().simple().to_string(),
                    });
                }
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "waiting for Redis");
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        Err(anyhow::anyhow!("could not reach Redis at REDIS_URL: {}", last.map(|e| e.to_string()).unwrap_or_default()))
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Records the outcome of a Redis call; logs transitions only.
    pub fn observe<T>(&self, result: &redis::RedisResult<T>) {
        let ok = result.is_ok();
        let was = self.healthy.swap(ok, Ordering::Relaxed);
        match (was, result) {
            (true, Err(e)) => {
                tracing::error!(error = %e, "Redis unreachable: this node serves its own sockets only until it returns")
            }
            (false, Ok(_)) => tracing::info!("Redis reachable again: cross-node delivery resumed"),
            _ => {}
        }
    }

    /// Takes `key` for this node for `ttl` unless another node holds it:
    /// true when this node may do the work the key guards. A node that dies
    /// holding it frees it when the lease runs out.
    pub async fn lease(&self, key: &str, ttl: Duration) -> bool {
        let taken: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(key)
            .arg(&self.node_id)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut self.conn.clone())
            .await;
        matches!(taken, Ok(Some(_)))
    }

    pub fn set_pubsub(&self, conn: ConnectionManager) {
        let _ = self.pubsub.set(conn);
    }

    /// A cheap round trip on both connections, to notice Redis leaving and
    /// coming back (which makes the subscriber reconnect and resubscribe).
    pub async fn ping(&self) -> bool {
        let mut ok = ping(self.conn.clone()).await;
        if let Some(pubsub) = self.pubsub.get() {
            ok &= ping(pubsub.clone()).await;
        }
        let outcome: redis::RedisResult<()> =
            if ok { Ok(()) } else { Err((redis::ErrorKind::Io, "no answer to PING").into()) };
        self.observe(&outcome);
        ok
    }
}

async fn ping(mut conn: ConnectionManager) -> bool {
    redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
}
