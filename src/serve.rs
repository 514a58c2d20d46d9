//! The connection loop: hyper with a bound on how long a client may take to
//! send its request head, and head limits generous enough that the router
//! (not hyper, which answers with an empty body) refuses oversized heads in
//! the error envelope.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::extract::ConnectInfo;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::http::HttpService;

/// Headers hyper itself accepts; the router refuses more than
/// [`crate::http::MAX_HEADERS`] with a 431 envelope.
const HYPER_MAX_HEADERS: usize = 1000;
/// hyper's read buffer, which bounds a request head (request line and headers).
const HYPER_MAX_HEAD_BYTES: usize = 256 * 1024;

/// Serves `service` on `listener` until `shutdown` completes, then stops
/// accepting and waits for open connections to finish.
pub async fn serve(
    listener: TcpListener,
    service: HttpService,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_headers(HYPER_MAX_HEADERS)
        .max_buf_size(HYPER_MAX_HEAD_BYTES);
    builder.http2().timer(TokioTimer::new()).enable_connect_protocol();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let svc = service.clone().map_request(move |mut req: http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req.map(axum::body::Body::new)
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(svc));
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
