//! Parley: a Socket.IO conversation server for two-sided marketplaces.
//!
//! [`Application::build`] wires settings, database, Socket.IO and HTTP
//! together and binds the listener; [`Application::run`] serves until a
//! shutdown signal.

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod realtime;
pub mod state;
pub mod telemetry;

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::Router;
use socketioxide::SocketIo;
use tokio::net::TcpListener;

use crate::{
    auth::Verifier,
    config::Settings,
    domain::{flow::engine::FlowConfig, payments::Payments},
    realtime::emitter::SocketSink,
    state::{AppState, BoxFuture, Emitter, Inner},
};

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    close_sockets: Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>,
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
        let addr = SocketAddr::new(settings.host, settings.port);
        let state = AppState(Arc::new(Inner {
            db,
            verifier,
            flow: FlowConfig::from(&settings),
            payments,
            settings,
            users: Default::default(),
            presence: Default::default(),
            typing: Default::default(),
            metrics: Default::default(),
            emitter: Emitter::default(),
        }));

        let (layer, io) = SocketIo::builder().with_state(state.clone()).build_layer();
        realtime::namespace(&io);
        state.emitter.install(SocketSink::new(io.clone()));
        let close_sockets: Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send> =
            Box::new(move || Box::pin(async move { io.close().await }));

        let router = http::router(state.clone()).layer(layer);
        let listener = TcpListener::bind(addr).await.with_context(|| format!("could not listen on {addr}"))?;
        Ok(Self { listener, router, state, close_sockets })
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
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let close_sockets = self.close_sockets;
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: closing sockets and draining requests");
            let _ = stopped_tx.send(());
            close_sockets().await;
        };
        let server = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
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
