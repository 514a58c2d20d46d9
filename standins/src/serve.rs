//! Serving a stand-in on 127.0.0.1, port 0, until it is dropped.

use std::net::SocketAddr;

use axum::Router;
use tokio::{net::TcpListener, task::JoinHandle};

pub(crate) async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    (listener, base)
}

/// A server task, stopped when this is dropped.
pub(crate) struct Running {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs `task` (an accept loop on `addr`) until dropped.
    pub fn spawn(addr: SocketAddr, task: impl Future<Output = ()> + Send + 'static) -> Self {
        Self { addr, task: tokio::spawn(task) }
    }
}

/// Serves `app` over HTTP/1.1 and HTTP/2 (cleartext, prior knowledge).
pub(crate) fn serve(listener: TcpListener, app: Router) -> Running {
    let addr = listener.local_addr().expect("local address");
    Running::spawn(addr, async move {
        let _ = axum::serve(listener, app).await;
    })
}
