//! Parley: a Socket.IO conversation server for two-sided marketplaces.
//!
//! [`Application::build`] wires settings, database, Socket.IO and HTTP
//! together and binds the listener; [`Application::run`] serves until a
//! shutdown signal.

pub mod app;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod db;
pub mod describe;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod metrics_process;
pub mod realtime;
pub mod serve;
pub mod state;
pub mod telemetry;

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, atomic::Ordering},
};

use anyhow::Context;
use socketioxide::{SocketIo, adapter::Adapter};
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use tokio::net::TcpListener;

use crate::{
    auth::Verifier,
    config::Settings,
    domain::{
        clock::Clock,
        flow::engine::FlowConfig,
        limits::Limiter,
        messages::{BatchMetrics, Writer},
        outbox::Webhooks,
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

/// The largest Socket.IO packet a client may send (`maxPayload` in the
/// handshake). WebSocket frames and messages are held to it as well, so an
/// oversized frame is refused from its header instead of being buffered.
pub const MAX_PAYLOAD: usize = 100_000;

type CloseSockets = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

pub struct Application {
    listener: TcpListener,
    service: http::HttpService,
    state: AppState,
    close_sockets: CloseSockets,
    /// Notifications to push, when push is configured.
    notices: Option<tokio::sync::mpsc::UnboundedReceiver<domain::reach::Notice>>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::default()).await
    }

    /// Builds the server on a given clock (tests share one between nodes).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        if settings.jwt.secret_generated && !settings.is_production() {
            tracing::warn!(
                "JWT_SECRET is not set: generated a random secret for this run. Tokens from POST /api/dev/token \
                 work until restart; set JWT_SECRET to keep them valid."
            );
        }
        if settings.is_production() && settings.metrics_token.is_none() {
            tracing::warn!("METRICS_TOKEN is not set: /metrics answers anyone who can reach this port");
        }
        if settings.static_dir.is_none() && !http::assets::complete() {
            tracing::warn!(
                "this build embeds no browser builds from npm: run `npm ci --prefix static` and rebuild \
                 for the demo page's socket client and /api/docs"
            );
        }
        // Everything that can refuse the settings does so before the database is touched.
        let verifier = Verifier::new(&settings.jwt)?;
        let payments = Payments::from_settings(&settings, clock.clone())?;
        let reach = app::reach::Reach::from_settings(&settings)?;
        if payments.gateway.is_sandbox() {
            tracing::warn!("no Razorpay keys: payments use the development sandbox (POST /api/payments/sandbox/pay)");
        }
        // Migrations run on one connection of their own: on SQLite the
        // statements of one migration must not be spread over a pool.
        let migrator = db::connect_pool(&settings, 1).await?;
        db::migrate(&migrator).await?;
        migrator.close().await?;
        let db = db::connect(&settings).await?;
        let redis = match &settings.redis_url {
            Some(url) => Some(cluster::Redis::connect(url).await?),
            None => None,
        };
        let presence = match &redis {
            Some(r) => Presence::Shared(Box::new(SharedPresence::new(r.clone(), settings.presence_ttl, clock.clone()))),
            None => Presence::local(clock.clone()),
        };
        let addr = SocketAddr::new(settings.host, settings.port);
        let metrics = Metrics::default();
        let batches =
            BatchMetrics { size: metrics.message_batch_size.clone(), seconds: metrics.message_batch_seconds.clone() };
        let webhooks = Webhooks::from_settings(&settings.webhooks);
        let writer = Writer::start(&settings, redis.is_some(), batches, clock.clone(), webhooks.clone()).await?;
        let state = AppState(Arc::new(Inner {
            last_seen: LastSeen::start(db.clone(), clock.clone()),
            db,
            verifier,
            flow: FlowConfig::new(&settings, clock.clone(), webhooks.clone()),
            webhooks,
            presend: app::presend::hook(&settings)?,
            reach,
            payments,
            limiter: Limiter::new(settings.rate_limits.clone(), redis.clone()).counting(metrics.rate_limited.clone()),
            writer,
            redis: redis.clone(),
            settings,
            clock,
            alarm: Default::default(),
            users: Default::default(),
            presence,
            typing: Default::default(),
            metrics,
            emitter: Emitter::default(),
            draining: Default::default(),
            legacy_clients: Default::default(),
            inflight: Default::default(),
        }));
        let (service, close_sockets) = socket_io(&state, redis.as_ref()).await?;
        if redis.is_some() {
            // Several nodes: a node may die between commit and emit, so emits
            // are confirmed and the unconfirmed emitted again by another node.
            let (emitted, confirmations) = tokio::sync::mpsc::unbounded_channel();
            state.emitter.track_delivery(emitted, redis);
            tokio::spawn(app::upkeep::confirm_emits(state.db.clone(), confirmations));
        }
        let notices = state.reach.pushes().then(|| {
            let (push, notices) = tokio::sync::mpsc::unbounded_channel();
            state.emitter.forward_notices(push);
            notices
        });
        let listener = TcpListener::bind(addr).await.with_context(|| format!("could not listen on {addr}"))?;
        Ok(Self { listener, service, state, close_sockets, notices })
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
        let checkpoints = tokio::spawn(db::keep_checkpoints(state.settings.clone()));
        let sweeper = tokio::spawn(app::upkeep::maintain(state.clone()));
        let webhook_workers = app::webhooks::start(&state).await?;
        let scheduler = tokio::spawn(app::schedules::keep(state.clone()));
        let backfill = tokio::spawn(app::upkeep::backfill_search(state.db.clone()));
        let analytics = tokio::spawn(app::upkeep::keep_analytics(state.clone()));
        let mut reach = vec![];
        if state.reach.mailer.is_some() {
            reach.push(tokio::spawn(app::reach::email::keep(state.clone())));
        }
        if let Some(notices) = self.notices {
            reach.push(tokio::spawn(app::reach::push::deliver(state.clone(), notices)));
        }
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
            checkpoints.abort();
            scheduler.abort();
            backfill.abort();
            analytics.abort();
            for worker in webhook_workers.into_iter().chain(reach) {
                worker.abort();
            }
            if let Presence::Shared(shared) = &state.presence {
                shared.leave_cluster().await;
            }
        };
        let server =
            tokio::spawn(serve::serve(self.listener, self.service, self.state.settings.header_read_timeout, signal));
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => { result?; }
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

/// The Socket.IO layer, with an adapter that decides how room emits travel:
/// in memory, or through Redis to every node.
async fn socket_io(
    state: &AppState,
    redis: Option<&cluster::Redis>,
) -> anyhow::Result<(http::HttpService, CloseSockets)> {
    let mut builder = SocketIo::builder()
        .with_state(state.clone())
        .ws_read_buffer_size(WS_READ_BUFFER)
        .max_payload(MAX_PAYLOAD as u64)
        .ws_max_frame_size(MAX_PAYLOAD)
        .ws_max_message_size(MAX_PAYLOAD)
        .ping_interval(state.settings.ping_interval)
        .ping_timeout(state.settings.ping_timeout)
        .connect_timeout(state.settings.connect_timeout);
    if state.settings.socketio_parser == config::SocketParser::MsgPack {
        builder = builder.with_parser(socketioxide::ParserConfig::msgpack());
    }
    match redis {
        None => {
            let (layer, io) = builder.build_layer();
            realtime::namespace(&io);
            Ok(serve(state, layer, io))
        }
        Some(r) => {
            let driver = ResilientDriver::connect(r).await.context("could not subscribe to Redis")?;
            let config = RedisAdapterConfig { prefix: "parley".into(), ..RedisAdapterConfig::default() };
            let ctr = RedisAdapterCtr::new_with_driver(driver, config);
            let (layer, io) = builder.with_adapter::<CustomRedisAdapter<_, ResilientDriver>>(ctr).build_layer();
            realtime::namespace(&io).await.context("could not set up the Redis adapter")?;
            tracing::info!(node_id = %r.node_id, "several nodes: rooms and presence shared through Redis");
            Ok(serve(state, layer, io))
        }
    }
}

fn serve<A: Adapter>(
    state: &AppState,
    layer: socketioxide::layer::SocketIoLayer<A>,
    io: SocketIo<A>,
) -> (http::HttpService, CloseSockets) {
    state.emitter.install(SocketSink::new(io.clone(), state));
    let service = http::service(state, http::router(state.clone()), layer);
    (service, Box::new(move || Box::pin(async move { io.close().await })))
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
