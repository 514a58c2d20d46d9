//! Parley: a Socket.IO conversation server for two-sided marketplaces.
//!
//! [`Application::build`] wires settings, database, Socket.IO and HTTP
//! together and binds the listener; [`Application::run`] serves until a
//! shutdown signal.

pub mod auth;
pub mod cluster;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod realtime;
pub mod state;
pub mod telemetry;

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
};

use anyhow::Context;
use axum::ServiceExt;
use socketioxide::SocketIo;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use tokio::net::TcpListener;

use crate::{
    auth::Verifier,
    config::Settings,
    domain::{
        flow::engine::FlowConfig,
        limits::Limiter,
        messages::{BatchMetrics, Writer},
        payments::Payments,
        presence::{Presence, SharedPresence},
        users::LastSeen,
    },
    metrics::Metrics,
    realtime::{emitter::SocketSink, redis_driver::ResilientDriver},
    state::{AppState, BoxFuture, Emitter, Inner},
};

/// Socket.IO frames from chat clients are small; the default 4 KiB read
/// buffer per WebSocket is most of an idle connection's memory.
const WS_READ_BUFFER: usize = 1024;

type CloseSockets = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

pub struct Application {
    listener: TcpListener,
    service: http::HttpService,
    state: AppState,
    close_sockets: CloseSockets,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        if settings.jwt.secret_generated {
            tracing::warn!(
                "JWT_SECRET is not set: generated a random secret for this run. Tokens from POST /api/dev/token \
                 work until restart; set JWT_SECRET to keep them valid."
            );
        }
        let db = db::connect(&settings).await?;
        db::migrate(&db).await?;

        let verifier = Verifier::new(&settings.jwt)?;
        let payments = Payments::from_settings(&settings)?;
        if payments.gateway.is_sandbox() {
            tracing::warn!("no Razorpay keys: payments use the development sandbox (POST /api/payments/sandbox/pay)");
        }
        let redis = match &settings.redis_url {
            Some(url) => Some(cluster::Redis::connect(url).await?),
            None => None,
        };
        let presence = match &redis {
            Some(r) => Presence::Shared(Box::new(SharedPresence::new(r.clone(), settings.presence_ttl))),
            None => Presence::default(),
        };
        let addr = SocketAddr::new(settings.host, settings.port);
        let metrics = Metrics::default();
        let writer = Writer::start(
            &settings,
            redis.is_some(),
            BatchMetrics { size: metrics.message_batch_size.clone(), seconds: metrics.message_batch_seconds.clone() },
        )
        .await?;
        let state = AppState(Arc::new(Inner {
            last_seen: LastSeen::start(db.clone()),
            db,
            verifier,
            flow: FlowConfig::from(&settings),
            payments,
            limiter: Limiter::new(settings.rate_limits.clone(), redis.clone()),
            writer,
            redis: redis.clone(),
            settings,
            users: Default::default(),
            presence,
            typing: Default::default(),
            metrics,
            emitter: Emitter::default(),
            draining: Default::default(),
            inflight: Default::default(),
        }));

        // The adapter decides how room emits travel: in memory, or through
        // Redis to every node.
        let (service, close_sockets): (http::HttpService, CloseSockets) = match &redis {
            None => {
                let (layer, io) =
                    SocketIo::builder().with_state(state.clone()).ws_read_buffer_size(WS_READ_BUFFER).build_layer();
                realtime::namespace(&io);
                state.emitter.install(SocketSink::new(io.clone()));
                (
                    http::service(&state, http::router(state.clone()), layer),
                    Box::new(move || Box::pin(async move { io.close().await })),
                )
            }
            Some(r) => {
                let driver = ResilientDriver::connect(r).await.context("could not subscribe to Redis")?;
                let config = RedisAdapterConfig { prefix: "parley".into(), ..RedisAdapterConfig::default() };
                let ctr = RedisAdapterCtr::new_with_driver(driver, config);
                let (layer, io) = SocketIo::builder()
                    .with_state(state.clone())
                    .ws_read_buffer_size(WS_READ_BUFFER)
                    .with_adapter::<CustomRedisAdapter<_, ResilientDriver>>(ctr)
                    .build_layer();
                realtime::namespace(&io).await.context("could not set up the Redis adapter")?;
                state.emitter.install(SocketSink::new(io.clone()));
                tracing::info!(node_id = %r.node_id, "several nodes: rooms and presence shared through Redis");
                (
                    http::service(&state, http::router(state.clone()), layer),
                    Box::new(move || Box::pin(async move { io.close().await })),
                )
            }
        };
        if redis.is_some() {
            // Several nodes: a node may die between commit and emit, so emits
            // are confirmed and the unconfirmed emitted again by another node.
            let (emitted, confirmations) = tokio::sync::mpsc::unbounded_channel();
            state.emitter.track_delivery(emitted, redis);
            tokio::spawn(realtime::cluster::confirm_emits(state.db.clone(), confirmations));
        }
        let listener = TcpListener::bind(addr).await.with_context(|| format!("could not listen on {addr}"))?;
        Ok(Self { listener, service, state, close_sockets })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then stops accepting connections,
    /// closes sockets (clients reconnect elsewhere) and lets in-flight
    /// requests finish within the grace period.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let grace = self.state.settings.shutdown_grace;
        let addr = self.listener.local_addr()?;
        tracing::info!(%addr, "listening on http://{addr}");
        let state = self.state.clone();
        let sweeper = tokio::spawn(realtime::cluster::maintain(state.clone()));
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let close_sockets = self.close_sockets;
        let signal = async move {
            shutdown.await;
            tracing::info!(
                grace_ms = grace.as_millis() as u64,
                "shutting down: finishing in-flight events, then closing sockets"
            );
            state.draining.store(true, Ordering::Relaxed);
            let _ = stopped_tx.send(());
            if !state.drained(grace / 2).await {
                tracing::warn!("some socket events were still running when sockets closed");
            }
            close_sockets().await;
            sweeper.abort();
            if let Presence::Shared(shared) = &state.presence {
                shared.leave_cluster().await;
            }
        };
        let server = axum::serve(self.listener, self.service.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(signal);
        let server = tokio::spawn(async move { server.await });
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => { result??; }
            _ = async {
                let _ = stopped_rx.await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_ms = grace.as_millis() as u64, "grace period over; stopping with requests still in flight");
            }
        }
        tracing::info!("stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
