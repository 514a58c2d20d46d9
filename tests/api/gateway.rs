//! A stand-in for Razorpay's API, driven by the tests: it checks what
//! Parley sends, and can fail or hang on demand. Plus webhook signing.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

pub const KEY_ID: &str = "rzp_test_parley";
pub const KEY_SECRET: &str = "key-secret-for-tests";
pub const WEBHOOK_SECRET: &str = "webhook-secret-for-tests";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Ok,
    Fail,
    Hang,
}

#[derive(Default)]
pub struct Recorded {
    pub orders: Vec<Value>,
    pub bad_requests: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    mode: Arc<Mutex<Mode>>,
    recorded: Arc<Mutex<Recorded>>,
}

pub struct StandIn {
    pub base: String,
    shared: Shared,
}

impl StandIn {
    pub async fn start() -> Self {
        let shared = Shared { mode: Arc::new(Mutex::new(Mode::Ok)), recorded: Arc::default() };
        let app = Router::new()
            .route("/v1/orders", post(create_order))
            .route("/v1/orders/{id}", get(fetch_order))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, shared }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    pub fn orders(&self) -> Vec<Value> {
        self.shared.recorded.lock().unwrap().orders.clone()
    }

    /// Requests the stand-in refused (bad auth or body): must stay empty.
    pub fn bad_requests(&self) -> Vec<String> {
        self.shared.recorded.lock().unwrap().bad_requests.clone()
    }

    /// Settings for a Parley server that uses this gateway.
    pub fn configure(&self, s: &mut parley::config::Settings) {
        s.razorpay.key_id = Some(KEY_ID.into());
        s.razorpay.key_secret = Some(parley::config::Secret::new(KEY_SECRET));
        s.razorpay.webhook_secret = Some(parley::config::Secret::new(WEBHOOK_SECRET));
        s.razorpay.api_base = self.base.clone();
        s.razorpay.timeout = Duration::from_millis(800);
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}")));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

async fn create_order(
    State(s): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mode = *s.mode.lock().unwrap();
    match mode {
        Mode::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
        Mode::Fail => return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": {"code": "SERVER_ERROR"}}))),
        Mode::Ok => {}
    }
    let mut rec = s.recorded.lock().unwrap();
    if !authorised(&headers) {
        rec.bad_requests.push("bad basic auth".into());
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": "BAD_REQUEST_ERROR"}})));
    }
    let receipt = body["receipt"].as_str().unwrap_or_default();
    if !body["amount"].is_i64() || body["currency"] != "INR" || receipt.is_empty() || receipt.len() > 40 {
        rec.bad_requests.push(format!("bad order body {body}"));
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": "BAD_REQUEST_ERROR"}})));
    }
    let id = format!("order_{:014}", rec.orders.len() + 1);
    let order = json!({
        "id": id, "entity": "order", "amount": body["amount"], "amount_paid": 0, "amount_due": body["amount"],
        "currency": "INR", "receipt": receipt, "status": "created", "notes": body["notes"], "attempts": 0,
    });
    rec.orders.push(json!({ "request": body, "response": order.clone() }));
    (StatusCode::OK, Json(order))
}

async fn fetch_order(State(s): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> (StatusCode, Json<Value>) {
    let rec = s.recorded.lock().unwrap();
    if !authorised(&headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({})));
    }
    match rec.orders.iter().find(|o| o["response"]["id"] == id.as_str()) {
        Some(o) => (StatusCode::OK, Json(o["response"].clone())),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": {"code": "BAD_REQUEST_ERROR"}}))),
    }
}

/// hex(HMAC-SHA256(secret, message)), computed independently of Parley's helper.
pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

pub fn checkout_signature(order_id: &str, payment_id: &str) -> String {
    hmac_hex(KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes())
}

pub fn captured(order_id: &str, payment_id: &str, amount: i64) -> Value {
    json!({
        "entity": "event", "account_id": "acc_test", "event": "payment.captured", "contains": ["payment"],
        "payload": {"payment": {"entity": {
            "id": payment_id, "entity": "payment", "amount": amount, "currency": "INR", "status": "captured",
            "order_id": order_id, "method": "upi", "captured": true,
        }}},
        "created_at": 1_795_000_000,
    })
}

pub fn order_paid(order_id: &str, payment_id: &str, amount: i64) -> Value {
    json!({
        "entity": "event", "account_id": "acc_test", "event": "order.paid", "contains": ["payment", "order"],
        "payload": {
            "payment": {"entity": {"id": payment_id, "entity": "payment", "amount": amount, "currency": "INR", "status": "captured", "order_id": order_id}},
            "order": {"entity": {"id": order_id, "entity": "order", "amount": amount, "amount_paid": amount, "amount_due": 0, "currency": "INR", "status": "paid"}},
        },
        "created_at": 1_795_000_001,
    })
}

pub fn failed(order_id: &str, payment_id: &str, amount: i64) -> Value {
    json!({
        "entity": "event", "account_id": "acc_test", "event": "payment.failed", "contains": ["payment"],
        "payload": {"payment": {"entity": {
            "id": payment_id, "entity": "payment", "amount": amount, "currency": "INR", "status": "failed",
            "order_id": order_id, "error_code": "BAD_REQUEST_ERROR", "error_description": "Your card was declined",
        }}},
        "created_at": 1_795_000_002,
    })
}
