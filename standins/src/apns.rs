//! APNs: `POST /3/device/<token>` over cleartext HTTP/2 with prior
//! knowledge, checking the ES256 provider token against the test key's
//! public half, the topic and push type, recording payloads, and failing on
//! demand.

use std::{
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Json, Router,
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode, Version, header},
    response::{IntoResponse, Response},
    routing::post,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Arrivals, Fault, Faults, keys::TestApnsKey, serve};

pub const TOPIC: &str = "com.parley.test";
/// Apple's limit for an alert payload.
const MAX_PAYLOAD: usize = 4_096;

/// One push that passed the checks (or was failed on purpose).
#[derive(Clone, Debug)]
pub struct ApnsSend {
    pub device_token: String,
    pub provider_token: String,
    /// The provider token's `iat`.
    pub issued_at: u64,
    pub topic: String,
    pub push_type: String,
    pub body: Value,
    pub status: u16,
}

#[derive(Default)]
struct Record {
    sends: Vec<ApnsSend>,
    refusals: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    key: TestApnsKey,
    public_key: DecodingKey,
    record: Arc<Mutex<Record>>,
    faults: Faults,
    arrivals: Arrivals,
}

pub struct ApnsStandIn {
    running: serve::Running,
    shared: Shared,
}

impl ApnsStandIn {
    pub async fn start() -> Self {
        let key = TestApnsKey::generate();
        let shared = Shared {
            public_key: DecodingKey::from_ec_pem(key.public_key_pem.as_bytes()).unwrap(),
            key,
            record: Arc::default(),
            faults: Faults::default(),
            arrivals: Arrivals::default(),
        };
        let app = Router::new().route("/3/device/{token}", post(push)).with_state(shared.clone());
        let (listener, _) = serve::bind().await;
        Self { running: serve::serve(listener, app), shared }
    }

    /// The signing key, key id and team id the client must use.
    pub fn key(&self) -> &TestApnsKey {
        &self.shared.key
    }

    /// `APNS_TOPIC`.
    pub fn topic(&self) -> &'static str {
        TOPIC
    }

    /// `APNS_API_BASE` (`http://`: HTTP/2 with prior knowledge).
    pub fn api_base(&self) -> String {
        self.running.base()
    }

    pub fn sends(&self) -> Vec<ApnsSend> {
        self.shared.record.lock().unwrap().sends.clone()
    }

    pub fn arrivals(&self) -> &Arrivals {
        &self.shared.arrivals
    }

    /// What the stand-in refused, with why: must stay empty when the client is right.
    pub fn refusals(&self) -> Vec<String> {
        self.shared.record.lock().unwrap().refusals.clone()
    }

    /// The failures to answer with, for a device token or the next calls.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }
}

#[derive(Deserialize)]
struct ProviderClaims {
    iss: String,
    iat: u64,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn reason(status: StatusCode, reason: &str) -> Response {
    let mut body = json!({ "reason": reason });
    if status == StatusCode::GONE {
        body["timestamp"] = json!(now_secs() * 1_000);
    }
    (status, Json(body)).into_response()
}

/// The provider token's `iat`, or the status and reason APNs answers.
fn check_provider_token(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<(String, u64), (StatusCode, &'static str, String)> {
    let refused = |why: String| (StatusCode::FORBIDDEN, "InvalidProviderToken", why);
    let jwt = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bearer "))
        .ok_or((StatusCode::FORBIDDEN, "MissingProviderToken", "no authorization: bearer".to_owned()))?;
    let head = decode_header(jwt).map_err(|e| refused(format!("header: {e}")))?;
    if head.alg != Algorithm::ES256 || head.kid.as_deref() != Some(&shared.key.key_id) {
        return Err(refused(format!("alg {:?} kid {:?}", head.alg, head.kid)));
    }
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_required_spec_claims(&["iss"]);
    validation.validate_exp = false;
    let claims = decode::<ProviderClaims>(jwt, &shared.public_key, &validation)
        .map_err(|e| refused(format!("signature: {e}")))?
        .claims;
    if claims.iss != shared.key.team_id {
        return Err(refused(format!("iss {:?}", claims.iss)));
    }
    let now = now_secs();
    if claims.iat > now + 60 {
        return Err(refused("iat in the future".into()));
    }
    if now - claims.iat >= 3_600 {
        return Err((StatusCode::FORBIDDEN, "ExpiredProviderToken", format!("iat {} s old", now - claims.iat)));
    }
    Ok((jwt.to_owned(), claims.iat))
}

fn check_payload(body: &[u8]) -> Result<Value, (&'static str, String)> {
    if body.is_empty() {
        return Err(("PayloadEmpty", "empty body".into()));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| ("BadPayload", format!("not JSON: {e}")))?;
    let aps = value.get("aps").and_then(Value::as_object).ok_or(("BadPayload", "no aps object".to_owned()))?;
    let alert = aps.get("alert").ok_or(("BadPayload", "no aps.alert".to_owned()))?;
    if !alert.is_string() && !alert.get("title").is_some_and(Value::is_string) {
        return Err(("BadPayload", "aps.alert has no title".into()));
    }
    if aps.get("badge").is_some_and(|b| !b.is_u64()) {
        return Err(("BadPayload", "aps.badge is not a number".into()));
    }
    Ok(value)
}

async fn push(State(shared): State<Shared>, Path(device_token): Path<String>, request: Request) -> Response {
    let refuse = |status: StatusCode, apns_reason: &str, why: String| {
        shared.record.lock().unwrap().refusals.push(format!("{apns_reason}: {why}"));
        reason(status, apns_reason)
    };
    if request.version() != Version::HTTP_2 {
        return refuse(StatusCode::BAD_REQUEST, "BadRequest", format!("{:?}, not HTTP/2", request.version()));
    }
    let headers = request.headers().clone();
    let (provider_token, issued_at) = match check_provider_token(&shared, &headers) {
        Ok(checked) => checked,
        Err((status, apns_reason, why)) => return refuse(status, apns_reason, why),
    };
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (topic, push_type) = (text("apns-topic"), text("apns-push-type"));
    if topic.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "MissingTopic", "no apns-topic".into());
    }
    if topic != TOPIC {
        return refuse(StatusCode::BAD_REQUEST, "TopicDisallowed", format!("topic {topic:?}"));
    }
    if push_type != "alert" {
        return refuse(StatusCode::BAD_REQUEST, "InvalidPushType", format!("apns-push-type {push_type:?}"));
    }
    if device_token.len() != 64 || !device_token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return refuse(StatusCode::BAD_REQUEST, "BadDeviceToken", format!("device token {device_token:?}"));
    }
    let Ok(raw) = axum::body::to_bytes(request.into_body(), MAX_PAYLOAD + 1).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", "over 4096 bytes".into());
    };
    if raw.len() > MAX_PAYLOAD {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge", "over 4096 bytes".into());
    }
    let body = match check_payload(&raw) {
        Ok(body) => body,
        Err((apns_reason, why)) => return refuse(StatusCode::BAD_REQUEST, apns_reason, why),
    };
    let response = match shared.faults.take(&device_token) {
        None => (StatusCode::OK, [("apns-id", "00000000-0000-4000-8000-000000000000")]).into_response(),
        Some(Fault::Gone) => reason(StatusCode::GONE, "Unregistered"),
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut response = reason(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
            if let Some(secs) = retry_after_secs {
                response.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            response
        }
        Some(Fault::ServerError) => reason(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError"),
    };
    shared.record.lock().unwrap().sends.push(ApnsSend {
        device_token,
        provider_token,
        issued_at,
        topic,
        push_type,
        body,
        status: response.status().as_u16(),
    });
    shared.arrivals.arrived();
    response
}
