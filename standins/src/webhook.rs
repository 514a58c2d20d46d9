//! A webhook receiver: records every request (headers, raw body, arrival
//! time), verifies signatures on its own, and can answer slowly, fail the
//! next N requests with a status, or close the connection without an answer.
//! It also counts requests in flight per `X-Parley-Delivery-Id`.
//!
//! Served with hyper directly: closing a connection mid-request is not
//! something an axum handler can do.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::{
    HeaderMap, Request, Response, StatusCode,
    body::Incoming,
    header::{CONTENT_TYPE, HeaderValue},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use sha2::Sha256;

use crate::{Arrivals, serve};

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub arrived_at: SystemTime,
    /// What the receiver did with it.
    pub answered: Answered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answered {
    Status(u16),
    Closed,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON (panics if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Checks `X-Parley-Signature` against HMAC-SHA256(secret, timestamp "." raw body)
    /// and the timestamp against this receiver's clock, computed here
    /// independently of the sender's code.
    pub fn verify_signature(&self, secret: &[u8], tolerance: Duration) -> Result<(), String> {
        let timestamp = self.header("x-parley-timestamp").ok_or("no X-Parley-Timestamp")?;
        let signature = self.header("x-parley-signature").ok_or("no X-Parley-Signature")?;
        let secs: u64 = timestamp.parse().map_err(|_| format!("timestamp {timestamp:?}"))?;
        let arrived = self.arrived_at.duration_since(UNIX_EPOCH).unwrap().as_secs();
        if arrived.abs_diff(secs) > tolerance.as_secs() {
            return Err(format!("timestamp {secs} is {} s from arrival", arrived.abs_diff(secs)));
        }
        let mut signed = timestamp.as_bytes().to_vec();
        signed.push(b'.');
        signed.extend_from_slice(&self.body);
        let digits = signature.strip_prefix("v1=").ok_or("no v1= prefix")?;
        let given = hex::decode(digits).map_err(|_| "signature is not hex")?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(&signed);
        mac.verify_slice(&given).map_err(|_| "signature mismatch".to_owned())
    }
}

#[derive(Clone, Copy, Debug)]
enum Plan {
    Answer(StatusCode),
    Close,
}

struct Behaviour {
    delay: Duration,
    status: StatusCode,
    body: Bytes,
    next: Vec<Plan>,
}

#[derive(Default)]
struct InFlight {
    now: HashMap<String, usize>,
    max: HashMap<String, usize>,
}

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    in_flight: Arc<Mutex<InFlight>>,
    arrivals: Arrivals,
}

pub struct WebhookReceiver {
    running: serve::Running,
    shared: Shared,
}

impl WebhookReceiver {
    /// Answers 200 with an empty body until told otherwise.
    pub async fn start() -> Self {
        let shared = Shared {
            received: Arc::default(),
            behaviour: Arc::new(Mutex::new(Behaviour {
                delay: Duration::ZERO,
                status: StatusCode::OK,
                body: Bytes::new(),
                next: Vec::new(),
            })),
            in_flight: Arc::default(),
            arrivals: Arrivals::default(),
        };
        let (listener, _) = serve::bind().await;
        let addr = listener.local_addr().unwrap();
        let accept = shared.clone();
        let running = serve::Running::spawn(addr, async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = accept.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(shared.clone(), request));
                    // A connection closed on purpose ends in an error here; that is the point.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Self { running, shared }
    }

    /// The URL to deliver to (any path is accepted; this one is `/hook`).
    pub fn url(&self) -> String {
        format!("{}/hook", self.running.base())
    }

    pub fn requests(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn arrivals(&self) -> &Arrivals {
        &self.shared.arrivals
    }

    /// Waits (without sleeping) until `n` requests have arrived, then returns them all.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        self.shared.arrivals.wait_for(n, within).await;
        self.requests()
    }

    /// The default answer from now on.
    pub fn answer(&self, status: u16, body: impl Into<Bytes>) {
        let mut behaviour = self.shared.behaviour.lock().unwrap();
        behaviour.status = StatusCode::from_u16(status).unwrap();
        behaviour.body = body.into();
    }

    /// Answers JSON from now on (the pre-send hook's answers).
    pub fn answer_json(&self, body: serde_json::Value) {
        self.answer(200, body.to_string());
    }

    /// Waits this long before answering (or closing).
    pub fn respond_after(&self, delay: Duration) {
        self.shared.behaviour.lock().unwrap().delay = delay;
    }

    /// The next `n` requests get `status` (then the default answer again).
    pub fn fail_next(&self, n: usize, status: u16) {
        let status = StatusCode::from_u16(status).unwrap();
        self.shared.behaviour.lock().unwrap().next.extend(std::iter::repeat_n(Plan::Answer(status), n));
    }

    /// The next `n` requests are read, then their connection is closed without an answer.
    pub fn close_next(&self, n: usize) {
        self.shared.behaviour.lock().unwrap().next.extend(std::iter::repeat_n(Plan::Close, n));
    }

    /// The most requests ever in flight at once for one delivery id.
    pub fn max_concurrent(&self, delivery_id: &str) -> usize {
        self.shared.in_flight.lock().unwrap().max.get(delivery_id).copied().unwrap_or(0)
    }
}

/// Counts a request in flight until it is answered or its connection drops.
struct InFlightGuard {
    in_flight: Arc<Mutex<InFlight>>,
    delivery_id: String,
}

impl InFlightGuard {
    fn enter(in_flight: &Arc<Mutex<InFlight>>, delivery_id: String) -> Self {
        let mut counts = in_flight.lock().unwrap();
        let now = counts.now.entry(delivery_id.clone()).or_default();
        *now += 1;
        let now = *now;
        let max = counts.max.entry(delivery_id.clone()).or_default();
        *max = (*max).max(now);
        Self { in_flight: in_flight.clone(), delivery_id }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if let Some(now) = self.in_flight.lock().unwrap().now.get_mut(&self.delivery_id) {
            *now -= 1;
        }
    }
}

#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer")
    }
}

impl std::error::Error for Closed {}

async fn handle(shared: Shared, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Closed> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let arrived_at = SystemTime::now();
    let delivery_id =
        parts.headers.get("x-parley-delivery-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let _in_flight = InFlightGuard::enter(&shared.in_flight, delivery_id);
    let (plan, delay, default_body) = {
        let mut behaviour = shared.behaviour.lock().unwrap();
        let plan = if behaviour.next.is_empty() { Plan::Answer(behaviour.status) } else { behaviour.next.remove(0) };
        (plan, behaviour.delay, behaviour.body.clone())
    };
    shared.received.lock().unwrap().push(Received {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
        arrived_at,
        answered: match plan {
            Plan::Answer(status) => Answered::Status(status.as_u16()),
            Plan::Close => Answered::Closed,
        },
    });
    shared.arrivals.arrived();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match plan {
        Plan::Close => Err(Closed),
        Plan::Answer(status) => {
            let body = if status.is_success() {
                default_body
            } else {
                Bytes::from_static(b"{\"error\":\"failing on purpose\"}")
            };
            let mut response = Response::new(Full::new(body));
            *response.status_mut() = status;
            response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(response)
        }
    }
}
