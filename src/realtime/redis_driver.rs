//! The pub/sub driver behind the Redis adapter: a connection manager that
//! reconnects and resubscribes by itself. While Redis is away, publishing
//! succeeds locally (the adapter then still delivers to this node's
//! sockets) and `/readyz` says not ready.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use redis::{AsyncCommands, FromRedisValue, PushInfo, PushKind, aio::ConnectionManager};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

use crate::cluster::{Redis, manager_config};

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

#[derive(Clone)]
pub struct ResilientDriver {
    handlers: Handlers,
    conn: ConnectionManager,
    redis: Redis,
}

#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct DriverError(#[from] redis::RedisError);

fn route(msg: PushInfo, handlers: &Handlers) {
    if !matches!(msg.kind, PushKind::Message | PushKind::SMessage) || msg.data.len() < 2 {
        return;
    }
    let mut data = msg.data.into_iter();
    let (Some(chan), Some(payload)) = (data.next(), data.next()) else { return };
    let (Ok(chan), Ok(payload)) = (String::from_redis_value(chan), Vec::<u8>::from_redis_value(payload)) else {
        tracing::warn!("unreadable pub/sub message");
        return;
    };
    let Ok(handlers) = handlers.read() else { return };
    if let Some(tx) = handlers.get(&chan)
        && let Err(e) = tx.try_send((chan, payload))
    {
        tracing::warn!(error = %e, "pub/sub channel full; dropping a cross-node message");
    }
}

impl ResilientDriver {
    pub async fn connect(redis: &Redis) -> redis::RedisResult<Self> {
        let handlers: Handlers = Arc::default();
        let routed = handlers.clone();
        let config = manager_config()
            .set_push_sender(move |msg: PushInfo| {
                route(msg, &routed);
                Ok::<(), std::convert::Infallible>(())
            })
            .set_automatic_resubscription();
        let conn = ConnectionManager::new_with_config(redis.client.clone(), config).await?;
        redis.set_pubsub(conn.clone());
        Ok(Self { handlers, conn, redis: redis.clone() })
    }
}

impl Driver for ResilientDriver {
    type Error = DriverError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        let result = self.conn.clone().publish::<_, _, redis::Value>(chan, val).await;
        self.redis.observe(&result);
        // A lost cross-node message is reported by readiness and the log;
        // failing here would also stop delivery to this node's own sockets.
        Ok(())
    }

    async fn subscribe(&self, chan: String, size: usize) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = mpsc::channel(size);
        if let Ok(mut handlers) = self.handlers.write() {
            handlers.insert(chan.clone(), tx);
        }
        self.conn.clone().subscribe(chan.as_str()).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        if let Ok(mut handlers) = self.handlers.write() {
            handlers.remove(&chan);
        }
        self.conn.clone().unsubscribe(chan).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let mut conn = self.conn.clone();
        let result: redis::RedisResult<(String, u16)> =
            redis::cmd("PUBSUB").arg("NUMSUB").arg(chan).query_async(&mut conn).await;
        self.redis.observe(&result);
        Ok(result.map(|(_, n)| n).unwrap_or(0))
    }
}
