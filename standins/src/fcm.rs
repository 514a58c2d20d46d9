//! FCM HTTP v1: the OAuth2 token endpoint that checks the service account's
//! RS256 assertion, and `messages:send` that checks the access token, the
//! project and the message, records it, and fails on demand.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    Form, Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Arrivals, Fault, Faults, keys::TestServiceAccount, serve};

pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// One `messages:send` call that presented a valid access token.
#[derive(Clone, Debug)]
pub struct FcmSend {
    pub project: String,
    pub access_token: String,
    pub body: Value,
    /// The status the stand-in answered.
    pub status: u16,
}

impl FcmSend {
    pub fn device_token(&self) -> &str {
        self.body["message"]["token"].as_str().unwrap_or_default()
    }
}

struct Issued {
    expires: Instant,
}

#[derive(Default)]
struct Record {
    sends: Vec<FcmSend>,
    refusals: Vec<String>,
    issued: HashMap<String, Issued>,
    grants: usize,
}

struct Config {
    lifetime: Duration,
    token_delay: Duration,
}

#[derive(Clone)]
struct Shared {
    account: TestServiceAccount,
    public_key: DecodingKey,
    record: Arc<Mutex<Record>>,
    config: Arc<Mutex<Config>>,
    faults: Faults,
    send_arrivals: Arrivals,
}

pub struct FcmStandIn {
    running: serve::Running,
    shared: Shared,
}

impl FcmStandIn {
    /// Starts with a freshly generated service account whose `token_uri`
    /// points here, and access tokens that live an hour.
    pub async fn start() -> Self {
        let (listener, base) = serve::bind().await;
        let account = TestServiceAccount::generate(&format!("{base}/token"));
        let shared = Shared {
            public_key: DecodingKey::from_rsa_pem(account.public_key_pem.as_bytes()).unwrap(),
            account,
            record: Arc::default(),
            config: Arc::new(Mutex::new(Config { lifetime: Duration::from_secs(3_600), token_delay: Duration::ZERO })),
            faults: Faults::default(),
            send_arrivals: Arrivals::default(),
        };
        let app = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(shared.clone());
        Self { running: serve::serve(listener, app), shared }
    }

    pub fn account(&self) -> &TestServiceAccount {
        &self.shared.account
    }

    /// `FCM_API_BASE`.
    pub fn api_base(&self) -> String {
        self.running.base()
    }

    /// How long access tokens issued from now on live (`expires_in`).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.config.lock().unwrap().lifetime = lifetime;
    }

    /// Makes the token endpoint take this long to answer.
    pub fn set_token_delay(&self, delay: Duration) {
        self.shared.config.lock().unwrap().token_delay = delay;
    }

    /// Every access token issued so far is refused from now on (401).
    pub fn revoke_tokens(&self) {
        self.shared.record.lock().unwrap().issued.clear();
    }

    /// Access tokens granted so far.
    pub fn token_grants(&self) -> usize {
        self.shared.record.lock().unwrap().grants
    }

    pub fn sends(&self) -> Vec<FcmSend> {
        self.shared.record.lock().unwrap().sends.clone()
    }

    /// Every `messages:send` call that presented a valid access token.
    pub fn send_arrivals(&self) -> &Arrivals {
        &self.shared.send_arrivals
    }

    /// What the stand-in refused as malformed or unauthorised, with why.
    pub fn refusals(&self) -> Vec<String> {
        self.shared.record.lock().unwrap().refusals.clone()
    }

    /// The failures to answer with, for a device token or the next calls.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }
}

fn refuse(shared: &Shared, status: StatusCode, body: Value, why: String) -> Response {
    shared.record.lock().unwrap().refusals.push(why);
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    assertion: String,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    scope: String,
    aud: String,
    iat: u64,
    exp: u64,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn check_assertion(shared: &Shared, assertion: &str) -> Result<(), String> {
    let header = decode_header(assertion).map_err(|e| format!("assertion header: {e}"))?;
    if header.alg != Algorithm::RS256 {
        return Err(format!("assertion alg {:?}, not RS256", header.alg));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&shared.account.token_uri]);
    validation.set_issuer(&[&shared.account.client_email]);
    validation.set_required_spec_claims(&["iss", "aud", "exp", "iat"]);
    validation.leeway = 60;
    let claims = decode::<AssertionClaims>(assertion, &shared.public_key, &validation)
        .map_err(|e| format!("assertion: {e}"))?
        .claims;
    if claims.iss != shared.account.client_email || claims.aud != shared.account.token_uri {
        return Err("assertion iss or aud".into());
    }
    if claims.scope.split(' ').all(|s| s != SCOPE) {
        return Err(format!("assertion scope {:?}", claims.scope));
    }
    if claims.exp <= claims.iat || claims.exp - claims.iat > 3_600 {
        return Err("assertion lives longer than an hour".into());
    }
    if claims.iat > now_secs() + 60 {
        return Err("assertion issued in the future".into());
    }
    Ok(())
}

async fn token(State(shared): State<Shared>, Form(form): Form<TokenForm>) -> Response {
    let (lifetime, delay) = {
        let config = shared.config.lock().unwrap();
        (config.lifetime, config.token_delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let bad_grant = |why: String| {
        refuse(&shared, StatusCode::BAD_REQUEST, json!({"error": "invalid_grant", "error_description": why}), why)
    };
    if form.grant_type != GRANT_TYPE {
        return bad_grant(format!("grant_type {:?}", form.grant_type));
    }
    if let Err(why) = check_assertion(&shared, &form.assertion) {
        return bad_grant(why);
    }
    let mut record = shared.record.lock().unwrap();
    record.grants += 1;
    let access_token = format!("ya29.stand-in-{}", record.grants);
    record.issued.insert(access_token.clone(), Issued { expires: Instant::now() + lifetime });
    Json(json!({"access_token": access_token, "expires_in": lifetime.as_secs(), "token_type": "Bearer"}))
        .into_response()
}

fn fcm_error(status: StatusCode, grpc: &str, code: Option<&str>, message: &str) -> Value {
    let mut error = json!({"code": status.as_u16(), "message": message, "status": grpc});
    if let Some(code) = code {
        error["details"] = json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]);
    }
    json!({ "error": error })
}

fn check_message(body: &Value) -> Result<(), String> {
    let message = body.get("message").and_then(Value::as_object).ok_or("no message object")?;
    let token = message.get("token").and_then(Value::as_str).ok_or("message.token is not a string")?;
    if token.is_empty() {
        return Err("message.token is empty".into());
    }
    if let Some(notification) = message.get("notification") {
        for key in ["title", "body"] {
            if !notification.get(key).is_none_or(Value::is_string) {
                return Err(format!("notification.{key} is not a string"));
            }
        }
    }
    if let Some(data) = message.get("data") {
        let data = data.as_object().ok_or("data is not an object")?;
        if let Some((key, _)) = data.iter().find(|(_, v)| !v.is_string()) {
            return Err(format!("data.{key} is not a string (FCM data values must be strings)"));
        }
    }
    Ok(())
}

async fn send(State(shared): State<Shared>, Path(project): Path<String>, headers: HeaderMap, body: String) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let valid = shared.record.lock().unwrap().issued.get(&bearer).is_some_and(|t| t.expires > Instant::now());
    if !valid {
        let body = fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            None,
            "Request had invalid authentication credentials.",
        );
        return refuse(&shared, StatusCode::UNAUTHORIZED, body, format!("access token {bearer:?} not valid"));
    }
    if project != shared.account.project_id {
        let body = fcm_error(StatusCode::FORBIDDEN, "PERMISSION_DENIED", None, "Permission denied on project.");
        return refuse(&shared, StatusCode::FORBIDDEN, body, format!("project {project:?}"));
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let parsed = serde_json::from_str::<Value>(&body).map_err(|e| e.to_string());
    let checked = parsed.clone().and_then(|b| check_message(&b).map(|()| b));
    let body = match checked {
        Ok(body) if content_type.starts_with("application/json") => body,
        Ok(_) => return refuse_invalid(&shared, format!("content-type {content_type:?}")),
        Err(why) => return refuse_invalid(&shared, why),
    };
    let token = body["message"]["token"].as_str().unwrap_or_default().to_owned();
    let answer = match shared.faults.take(&token) {
        None => {
            (StatusCode::OK, HeaderMap::new(), json!({"name": format!("projects/{project}/messages/{}", now_secs())}))
        }
        Some(Fault::Gone) => (
            StatusCode::NOT_FOUND,
            HeaderMap::new(),
            fcm_error(StatusCode::NOT_FOUND, "NOT_FOUND", Some("UNREGISTERED"), "Requested entity was not found."),
        ),
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut headers = HeaderMap::new();
            if let Some(secs) = retry_after_secs {
                headers.insert(header::RETRY_AFTER, secs.to_string().parse().unwrap());
            }
            let body = fcm_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                Some("QUOTA_EXCEEDED"),
                "Quota exceeded.",
            );
            (StatusCode::TOO_MANY_REQUESTS, headers, body)
        }
        Some(Fault::ServerError) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            HeaderMap::new(),
            fcm_error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", Some("INTERNAL"), "Internal error."),
        ),
    };
    shared.record.lock().unwrap().sends.push(FcmSend {
        project,
        access_token: bearer,
        body,
        status: answer.0.as_u16(),
    });
    shared.send_arrivals.arrived();
    (answer.0, answer.1, Json(answer.2)).into_response()
}

fn refuse_invalid(shared: &Shared, why: String) -> Response {
    let body = fcm_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", Some("INVALID_ARGUMENT"), &why);
    refuse(shared, StatusCode::BAD_REQUEST, body, why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    fn assertion(account: &TestServiceAccount, aud: &str, scope: &str) -> String {
        let iat = now_secs();
        let claims = json!({"iss": account.client_email, "scope": scope, "aud": aud, "iat": iat, "exp": iat + 3_600});
        let key = EncodingKey::from_rsa_pem(account.private_key_pem.as_bytes()).unwrap();
        encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
    }

    async fn grant(standin: &FcmStandIn, grant_type: &str, assertion: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(&standin.account().token_uri)
            .form(&[("grant_type", grant_type), ("assertion", assertion)])
            .send()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_token_endpoint_checks_the_assertion() {
        let standin = FcmStandIn::start().await;
        let account = standin.account().clone();
        let good = assertion(&account, &account.token_uri, SCOPE);

        assert_eq!(grant(&standin, "password", &good).await.status(), 400);
        assert_eq!(
            grant(&standin, GRANT_TYPE, &assertion(&account, "https://elsewhere/token", SCOPE)).await.status(),
            400
        );
        assert_eq!(grant(&standin, GRANT_TYPE, &assertion(&account, &account.token_uri, "email")).await.status(), 400);
        let (signed, signature) = good.rsplit_once('.').unwrap();
        let tampered = format!("{signed}.{}", signature.chars().rev().collect::<String>());
        assert_eq!(grant(&standin, GRANT_TYPE, &tampered).await.status(), 400);
        assert_eq!(standin.refusals().len(), 4);
        assert_eq!(standin.token_grants(), 0);

        let granted: Value = grant(&standin, GRANT_TYPE, &good).await.json().await.unwrap();
        assert_eq!(granted["expires_in"], 3_600);
        assert_eq!(standin.token_grants(), 1);
    }

    #[tokio::test]
    async fn the_send_api_checks_token_project_and_data() {
        let standin = FcmStandIn::start().await;
        let account = standin.account().clone();
        let granted: Value =
            grant(&standin, GRANT_TYPE, &assertion(&account, &account.token_uri, SCOPE)).await.json().await.unwrap();
        let token = granted["access_token"].as_str().unwrap().to_owned();
        let send = |project: &str, bearer: &str, body: Value| {
            reqwest::Client::new()
                .post(format!("{}/v1/projects/{project}/messages:send", standin.api_base()))
                .bearer_auth(bearer)
                .json(&body)
                .send()
        };
        let message = json!({"message": {"token": "d1", "data": {"badge": "3"}}});

        assert_eq!(send("parley-test", "ya29.forged", message.clone()).await.unwrap().status(), 401);
        assert_eq!(send("another", &token, message.clone()).await.unwrap().status(), 403);
        let numeric = json!({"message": {"token": "d1", "data": {"badge": 3}}});
        assert_eq!(send("parley-test", &token, numeric).await.unwrap().status(), 400);
        assert_eq!(standin.refusals().len(), 3);
        assert_eq!(send("parley-test", &token, message).await.unwrap().status(), 200);
        assert_eq!(standin.sends().len(), 1);
    }
}
