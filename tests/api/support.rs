//! Starts a real Parley server on port 0 with a fresh database (a temporary
//! SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is
//! set) and talks to it as clients do.

use std::collections::HashMap;

use parley::{Application, config::Settings, state::AppState};
use parley_client::{Client, Options};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const SECRET: &str = "integration-test-secret";

pub struct TestApp {
    pub base: String,
    #[allow(dead_code)]
    pub state: AppState,
    pub http: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

/// Settings for a test server; `tweak` changes fields before start.
pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let (database_url, dir) = fresh_database().await;
    let vars = HashMap::from([
        ("PORT", "0"),
        ("JWT_SECRET", SECRET),
        ("DATABASE_URL", database_url.as_str()),
        ("DATABASE_MAX_CONNECTIONS", "8"),
    ]);
    let mut settings = Settings::from_map(&vars).expect("test settings");
    tweak(&mut settings);
    let app = Application::build(settings).await.expect("server starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp { base, state, http: reqwest::Client::new(), _dir: dir }
}

/// A server that the returned sender stops (the handle finishes once it
/// has); its database outlives it for another server to open.
#[allow(dead_code)]
pub async fn spawn_stoppable(
    tweak: impl FnOnce(&mut Settings),
) -> (TestApp, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (database_url, dir) = fresh_database().await;
    let vars = HashMap::from([
        ("PORT", "0"),
        ("JWT_SECRET", SECRET),
        ("DATABASE_URL", database_url.as_str()),
        ("DATABASE_MAX_CONNECTIONS", "8"),
        ("SHUTDOWN_GRACE_MS", "500"),
    ]);
    let mut settings = Settings::from_map(&vars).expect("test settings");
    tweak(&mut settings);
    let app = Application::build(settings).await.expect("server starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        let _ = app
            .run_until(async move {
                let _ = stopped.await;
            })
            .await;
    });
    (TestApp { base, state, http: reqwest::Client::new(), _dir: dir }, stop, running)
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(admin_url) => {
            use sea_orm::{ConnectionTrait, Database};
            let name = format!("parley_test_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(admin_url.as_str())
                .await
                .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL server");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = admin_url.rsplit_once('/').expect("database url has a path");
            (format!("{prefix}/{name}"), None)
        }
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("parley-test.db");
            (format!("sqlite://{}?mode=rwc", path.display()), Some(dir))
        }
    }
}

pub use crate::tokens::{exp_in, sign, uid};

/// A valid token for `user` with `role`.
pub fn token(user: &str, role: &str) -> String {
    crate::tokens::token_for(SECRET, user, role)
}

impl TestApp {
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let res = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    #[allow(dead_code)]
    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let res =
            self.http.put(format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await.expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    #[allow(dead_code)]
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let res = self.http.delete(format!("{}{path}", self.base)).bearer_auth(token).send().await.expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn socket(&self, token: &str) -> Client {
        parley_client::connect(&self.base, Options::token(token)).await.expect("socket connects")
    }

    pub async fn socket_with(&self, opts: Options) -> Result<Client, parley_client::Error> {
        parley_client::connect(&self.base, opts).await
    }

    /// Opens (or finds) the direct conversation between two users; returns its id.
    pub async fn direct(&self, a_token: &str, b: &str) -> String {
        let (status, body) = self.post("/api/messages/direct-connect", a_token, json!({ "target_user_id": b })).await;
        assert!(status.is_success(), "direct-connect failed: {status} {body}");
        body["conversation"]["id"].as_str().expect("conversation id").to_string()
    }

    /// A connected socket for `user` that has joined `conversation`.
    pub async fn joined(&self, user: &str, role: &str, conversation: &str) -> Client {
        let s = self.socket(&token(user, role)).await;
        let ack = s.ack("join_conversation", json!(conversation)).await.expect("join ack");
        assert_eq!(ack["success"], true, "join_conversation failed: {ack}");
        s
    }
}

/// Two users with a direct conversation between them.
pub struct Pair {
    pub a: String,
    pub b: String,
    pub a_token: String,
    pub b_token: String,
    pub conversation: String,
}

pub async fn pair(app: &TestApp) -> Pair {
    let a = uid("alice");
    let b = uid("bob");
    let a_token = token(&a, "brand_owner");
    let b_token = token(&b, "influencer");
    // Both users present a token once, as real clients do.
    app.get("/api/messages/unread-count", &b_token).await;
    let conversation = app.direct(&a_token, &b).await;
    Pair { a, b, a_token, b_token, conversation }
}

pub fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["success"], false, "expected failure {code}, got {body}");
    assert_eq!(body["error_code"], code, "expected {code}, got {body}");
    assert!(body["message"].is_string(), "error without message: {body}");
}

/// A participant of a flow conversation: token, socket joined to it.
pub struct Party {
    pub id: String,
    pub token: String,
    pub socket: parley_client::Client,
}

/// A brand owner's bid (or campaign) conversation with an influencer, both
/// connected and joined.
pub struct Flow {
    pub conversation: String,
    pub source_id: String,
    pub brand: Party,
    pub creator: Party,
}

impl TestApp {
    pub async fn create_bid(&self, owner_token: &str) -> String {
        let (status, body) = self
            .post(
                "/api/bids",
                owner_token,
                json!({"title": "Summer reels", "description": "Three reels", "max_budget": 9000}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["bid"]["id"].as_str().unwrap().to_string()
    }

    pub async fn create_campaign(&self, owner_token: &str) -> String {
        let (status, body) = self
            .post(
                "/api/campaigns",
                owner_token,
                json!({"title": "Diwali launch", "description": "Two posts and a story", "budget": 8000}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["campaign"]["id"].as_str().unwrap().to_string()
    }

    /// Opens a bid (or campaign) conversation and connects both sides.
    pub async fn flow(&self, kind: &str) -> Flow {
        let (brand_id, creator_id) = (uid("brand"), uid("creator"));
        let brand_token = token(&brand_id, "brand_owner");
        let creator_token = token(&creator_id, "influencer");
        self.get("/api/messages/unread-count", &creator_token).await;
        let (source_id, path, body) = if kind == "bid" {
            let id = self.create_bid(&brand_token).await;
            let body = json!({"bid_id": id, "influencer_id": creator_id, "proposed_amount": 4000});
            (id, "/api/bids/automated/initialize", body)
        } else {
            let id = self.create_campaign(&brand_token).await;
            let body = json!({"campaign_id": id, "influencer_id": creator_id});
            (id, "/api/campaigns/automated/initialize", body)
        };
        let (status, init) = self.post(path, &brand_token, body).await;
        assert_eq!(status, 201, "{init}");
        let conversation = init["conversation"]["id"].as_str().unwrap().to_string();
        let brand = Party {
            socket: self.joined(&brand_id, "brand_owner", &conversation).await,
            id: brand_id,
            token: brand_token,
        };
        let creator = Party {
            socket: self.joined(&creator_id, "influencer", &conversation).await,
            id: creator_id,
            token: creator_token,
        };
        Flow { conversation, source_id, brand, creator }
    }
}

impl Flow {
    /// A button action over the socket, returning the ack.
    pub async fn click(&self, who: &Party, button: &str, data: Value) -> Value {
        who.socket
            .ack(
                "button_action",
                json!({"conversationId": self.conversation, "button_id": button, "additional_data": data}),
            )
            .await
            .expect("button_action ack")
    }

    /// A button action that must succeed; returns the new flow state.
    pub async fn step(&self, who: &Party, button: &str, data: Value) -> String {
        let ack = self.click(who, button, data).await;
        assert_eq!(ack["success"], true, "{button}: {ack}");
        ack["conversation"]["flow_state"].as_str().unwrap().to_string()
    }
}
