//! A minimal Socket.IO v5 client (Engine.IO v4 over WebSocket) for Parley's
//! integration tests and load generator. Text packets only: enough to
//! connect with an auth payload, emit with or without an ack, and wait for
//! events.

use std::{
    collections::{HashMap, VecDeque},
    net::{IpAddr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::{
    net::TcpSocket,
    sync::{Notify, mpsc, oneshot},
};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered the namespace connect with `connect_error`.
    #[error("connection refused: {0}")]
    Refused(String),
    #[error("i/o: {0}")]
    Io(String),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("timed out waiting for {0}")]
    Timeout(String),
    #[error("connection closed")]
    Closed,
}

/// Called for every event as it arrives (before it is buffered).
pub type Hook = Arc<dyn Fn(&str, &Value) + Send + Sync>;

/// Called with the raw JSON array of every event packet (`["name", ...]`)
/// before it is parsed; returning `true` consumes the event, so it is
/// neither parsed, passed to [`Hook`] nor buffered. Lets a load generator
/// look at thousands of events per second without building JSON values.
pub type RawHook = Arc<dyn Fn(&str) -> bool + Send + Sync>;

#[derive(Clone, Default)]
pub struct Options {
    /// The `auth` payload of the namespace connect, e.g. `{"token": "..."}`.
    pub auth: Option<Value>,
    /// Extra query string, e.g. `token=...`.
    pub query: Option<String>,
    /// Extra HTTP headers on the WebSocket handshake.
    pub headers: Vec<(String, String)>,
    /// Local address to connect from (the load generator spreads these).
    pub local_ip: Option<IpAddr>,
    pub hook: Option<Hook>,
    /// Sees events before they are parsed; see [`RawHook`].
    pub raw_hook: Option<RawHook>,
    /// Keep received events for `wait_for` (tests); off for load generation.
    pub buffer: bool,
    /// WebSocket read buffer per connection; `None` keeps the library's
    /// default (128 KiB, allocated up front). A load generator holding tens
    /// of thousands of connections wants a few KiB.
    pub read_buffer_size: Option<usize>,
    /// Gives up on the TCP connect, WebSocket upgrade and namespace connect
    /// after this long; `None` waits as long as the OS does.
    pub connect_timeout: Option<Duration>,
}

impl Options {
    pub fn token(token: &str) -> Self {
        Self { auth: Some(serde_json::json!({ "token": token })), buffer: true, ..Self::default() }
    }

    /// For load generation: the token, no buffering, a 4 KiB read buffer
    /// and no write batching.
    pub fn lean(token: &str) -> Self {
        Self {
            auth: Some(serde_json::json!({ "token": token })),
            buffer: false,
            read_buffer_size: Some(4096),
            ..Self::default()
        }
    }
}

struct Shared {
    inbox: Mutex<VecDeque<(String, Value)>>,
    arrived: Notify,
    acks: Mutex<HashMap<u64, oneshot::Sender<Value>>>,
    closed: Mutex<bool>,
}

pub struct Client {
    out: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
    next_ack: AtomicU64,
    sid: String,
}

/// Connects to `base` (`http://host:port`) on the default namespace.
pub async fn connect(base: &str, opts: Options) -> Result<Client, Error> {
    match opts.connect_timeout {
        Some(limit) => tokio::time::timeout(limit, connect_inner(base, opts))
            .await
            .unwrap_or_else(|_| Err(Error::Timeout("connect".into()))),
        None => connect_inner(base, opts).await,
    }
}

async fn connect_inner(base: &str, opts: Options) -> Result<Client, Error> {
    let ws_base = base.replacen("http://", "ws://", 1).replacen("https://", "wss://", 1);
    let mut url = format!("{}/socket.io/?EIO=4&transport=websocket", ws_base.trim_end_matches('/'));
    if let Some(q) = &opts.query {
        url.push('&');
        url.push_str(q);
    }
    let authority = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| Error::Protocol("bad url".into()))?
        .to_string();
    let addr: SocketAddr = tokio::net::lookup_host(&authority)
        .await
        .map_err(|e| Error::Io(e.to_string()))?
        .next()
        .ok_or_else(|| Error::Io("no address".into()))?;
    let socket =
        if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(|e| Error::Io(e.to_string()))?;
    if let Some(ip) = opts.local_ip {
        socket.bind(SocketAddr::new(ip, 0)).map_err(|e| Error::Io(format!("bind {ip}: {e}")))?;
    }
    let stream = socket.connect(addr).await.map_err(|e| Error::Io(e.to_string()))?;
    stream.set_nodelay(true).ok();

    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.as_str().into_client_request().map_err(|e| Error::Protocol(e.to_string()))?;
    for (k, v) in &opts.headers {
        let name = http_header_name(k)?;
        let value = v.parse().map_err(|_| Error::Protocol(format!("bad header value for {k}")))?;
        request.headers_mut().insert(name, value);
    }
    let config = opts.read_buffer_size.map(|size| {
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(size).write_buffer_size(0)
    });
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, config)
        .await
        .map_err(|e| Error::Io(e.to_string()))?;
    let (mut sink, mut stream) = ws.split();

    // Engine.IO open packet, then the Socket.IO namespace connect.
    let open = next_text(&mut stream).await?;
    if !open.starts_with('0') {
        return Err(Error::Protocol(format!("expected open packet, got {open:?}")));
    }
    let connect = match &opts.auth {
        Some(auth) => format!("40{auth}"),
        None => "40".to_string(),
    };
    sink.send(Message::text(connect)).await.map_err(|e| Error::Io(e.to_string()))?;
    // Events the server sends before the connect answer are kept and handled
    // right after it, as the official client does.
    let mut early = Vec::new();
    let sid = loop {
        let text = next_text(&mut stream).await?;
        if text == "2" {
            sink.send(Message::text("3")).await.map_err(|e| Error::Io(e.to_string()))?;
            continue;
        }
        if let Some(body) = text.strip_prefix("40") {
            let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            break v["sid"].as_str().unwrap_or_default().to_string();
        }
        if let Some(body) = text.strip_prefix("44") {
            let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            return Err(Error::Refused(v["message"].as_str().unwrap_or(body).to_string()));
        }
        if text.starts_with("42") {
            early.push(text);
            continue;
        }
        return Err(Error::Protocol(format!("unexpected packet before connect: {text:?}")));
    };

    let shared = Arc::new(Shared {
        inbox: Mutex::new(VecDeque::new()),
        arrived: Notify::new(),
        acks: Mutex::new(HashMap::new()),
        closed: Mutex::new(false),
    });
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(msg) = out_rx.recv().await {
            let close = matches!(msg, Message::Close(_));
            if sink.send(msg).await.is_err() || close {
                break;
            }
        }
    });
    let reader_shared = shared.clone();
    let pong = out_tx.clone();
    let hooks = Hooks { hook: opts.hook.clone(), raw: opts.raw_hook.clone(), buffer: opts.buffer };
    tokio::spawn(async move {
        for text in early {
            dispatch(&text, &reader_shared, &pong, &hooks);
        }
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(text) = msg else { continue };
            dispatch(text.as_str(), &reader_shared, &pong, &hooks);
        }
        *reader_shared.closed.lock().unwrap_or_else(|e| e.into_inner()) = true;
        reader_shared.acks.lock().unwrap_or_else(|e| e.into_inner()).clear();
        reader_shared.arrived.notify_waiters();
    });

    Ok(Client { out: out_tx, shared, next_ack: AtomicU64::new(1), sid })
}

fn http_header_name(k: &str) -> Result<tokio_tungstenite::tungstenite::http::HeaderName, Error> {
    k.parse().map_err(|_| Error::Protocol(format!("bad header name {k}")))
}

async fn next_text<S>(stream: &mut S) -> Result<String, Error>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
            Some(Ok(Message::Close(_))) | None => return Err(Error::Closed),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(Error::Io(e.to_string())),
        }
    }
}

struct Hooks {
    hook: Option<Hook>,
    raw: Option<RawHook>,
    buffer: bool,
}

fn dispatch(text: &str, shared: &Shared, out: &mpsc::UnboundedSender<Message>, hooks: &Hooks) {
    match text.as_bytes().first() {
        Some(b'2') => {
            let _ = out.send(Message::text("3"));
        }
        Some(b'4') => {
            let packet = &text[1..];
            let (kind, rest) = packet.split_at(packet.len().min(1));
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let ack_id: Option<u64> = rest[..digits].parse().ok();
            let body = &rest[digits..];
            match kind {
                "2" => {
                    if ack_id.is_none() && hooks.raw.as_ref().is_some_and(|raw| raw(body)) {
                        return;
                    }
                    let Ok(Value::Array(mut args)) = serde_json::from_str::<Value>(body) else {
                        return;
                    };
                    if args.is_empty() {
                        return;
                    }
                    let name = args.remove(0).as_str().unwrap_or_default().to_string();
                    let data = if args.len() == 1 { args.remove(0) } else { Value::Array(args) };
                    if let Some(hook) = &hooks.hook {
                        hook(&name, &data);
                    }
                    if hooks.buffer {
                        shared.inbox.lock().unwrap_or_else(|e| e.into_inner()).push_back((name, data));
                        shared.arrived.notify_waiters();
                    }
                }
                "3" => {
                    let Some(id) = ack_id else { return };
                    let value = match serde_json::from_str::<Value>(body) {
                        Ok(Value::Array(mut args)) if !args.is_empty() => args.remove(0),
                        _ => Value::Null,
                    };
                    if let Some(tx) = shared.acks.lock().unwrap_or_else(|e| e.into_inner()).remove(&id) {
                        let _ = tx.send(value);
                    }
                }
                "1" => {
                    *shared.closed.lock().unwrap_or_else(|e| e.into_inner()) = true;
                    shared.arrived.notify_waiters();
                }
                _ => {}
            }
        }
        _ => {}
    }
}

pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

impl Client {
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// Emits without asking for an ack.
    pub fn emit(&self, event: &str, data: Value) {
        let packet = format!("42{}", Value::Array(vec![Value::String(event.into()), data]));
        let _ = self.out.send(Message::text(packet));
    }

    /// Emits with no payload at all.
    pub fn emit_bare(&self, event: &str) {
        let packet = format!("42{}", Value::Array(vec![Value::String(event.into())]));
        let _ = self.out.send(Message::text(packet));
    }

    /// Emits and waits for the ack's first argument.
    pub async fn ack(&self, event: &str, data: Value) -> Result<Value, Error> {
        self.ack_within(event, data, DEFAULT_WAIT).await
    }

    pub async fn ack_within(&self, event: &str, data: Value, wait: Duration) -> Result<Value, Error> {
        let id = self.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.shared.acks.lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
        let packet = format!("42{id}{}", Value::Array(vec![Value::String(event.into()), data]));
        self.out.send(Message::text(packet)).map_err(|_| Error::Closed)?;
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err(Error::Closed),
            Err(_) => {
                self.shared.acks.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                Err(Error::Timeout(format!("ack of {event}")))
            }
        }
    }

    /// Waits for the next `event` (taking it from the buffer).
    pub async fn wait_for(&self, event: &str) -> Result<Value, Error> {
        self.wait_for_match(event, |_| true, DEFAULT_WAIT).await
    }

    /// Waits for the first `event` whose payload satisfies `pred`; other
    /// events stay buffered for later waits.
    pub async fn wait_for_match(
        &self,
        event: &str,
        pred: impl Fn(&Value) -> bool,
        wait: Duration,
    ) -> Result<Value, Error> {
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inbox = self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(pos) = inbox.iter().position(|(name, data)| name == event && pred(data)) {
                    return Ok(inbox.remove(pos).map(|(_, d)| d).unwrap_or(Value::Null));
                }
            }
            if self.is_closed() {
                return Err(Error::Closed);
            }
            if tokio::time::timeout_at(deadline.into(), notified).await.is_err() {
                return Err(Error::Timeout(event.to_string()));
            }
        }
    }

    /// Every buffered `event` received so far, removed from the buffer.
    pub fn take(&self, event: &str) -> Vec<Value> {
        let mut inbox = self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner());
        let mut taken = vec![];
        inbox.retain(|(name, data)| {
            if name == event {
                taken.push(data.clone());
                false
            } else {
                true
            }
        });
        taken
    }

    /// Every buffered `event` received so far, left in the buffer.
    pub fn peek(&self, event: &str) -> Vec<Value> {
        let inbox = self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner());
        inbox.iter().filter(|(name, _)| name == event).map(|(_, d)| d.clone()).collect()
    }

    pub fn is_closed(&self) -> bool {
        *self.shared.closed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the server closes the connection.
    pub async fn wait_closed(&self, wait: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.shared.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_closed() {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline.into(), notified).await.is_err() {
                return Err(Error::Timeout("close".into()));
            }
        }
    }

    /// Leaves the namespace and closes the connection.
    pub fn disconnect(&self) {
        let _ = self.out.send(Message::text("41"));
        let _ = self.out.send(Message::Close(None));
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.out.send(Message::Close(None));
    }
}
