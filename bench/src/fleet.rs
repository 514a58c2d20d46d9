//! The simulated users: ids, tokens, their direct conversations, and the
//! sockets that hold them, opened with bounded concurrency from spread
//! source addresses.

use std::{
    ops::Range,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures::StreamExt;
use parley_client::{Client, Options};
use serde_json::{Value, json};

use crate::{
    limits::{Failure, Failures, SourceAddrs, classify},
    probe::Probe,
};

/// Where the server is and how to reach it.
#[derive(Clone)]
pub struct Target {
    pub base: String,
    pub secret: String,
    pub user_prefix: String,
    pub sources: SourceAddrs,
    pub connect_concurrency: usize,
    pub connect_timeout: Duration,
}

/// User `2p` (a brand owner) and user `2p + 1` (an influencer) share pair
/// `p`'s direct conversation.
pub struct User {
    pub id: String,
    pub token: String,
    pub conversation: String,
}

/// How long a first `join_conversation` may go unanswered before it is sent again.
const JOIN_FIRST_WAIT: Duration = Duration::from_secs(2);

pub fn peer_of(index: usize) -> usize {
    index ^ 1
}

pub struct Fleet {
    pub users: Vec<User>,
    pub clients: Vec<Option<Arc<Client>>>,
    pub probe: Arc<Probe>,
}

pub struct ConnectReport {
    pub attempted: usize,
    pub connected: usize,
    /// Joins that went unanswered and succeeded when sent again.
    pub join_retries: usize,
    pub elapsed: Duration,
    pub failures: Failures,
}

impl ConnectReport {
    pub fn per_second(&self) -> f64 {
        self.connected as f64 / self.elapsed.as_secs_f64().max(1e-6)
    }
}

fn sign(id: &str, role: &str, secret: &str) -> anyhow::Result<String> {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 24 * 3600;
    let claims = json!({ "id": id, "role": role, "name": format!("Bench {id}"), "exp": exp });
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

impl Fleet {
    /// `count` users (rounded up to even) with signed tokens; conversations
    /// are filled in by [`Fleet::setup`].
    pub fn new(target: &Target, count: usize) -> anyhow::Result<Self> {
        let count = count.div_ceil(2) * 2;
        let mut users = Vec::with_capacity(count);
        for i in 0..count {
            let id = format!("{}{i}", target.user_prefix);
            let role = if i % 2 == 0 { "brand_owner" } else { "influencer" };
            users.push(User { token: sign(&id, role, &target.secret)?, id, conversation: String::new() });
        }
        Ok(Self { users, clients: (0..count).map(|_| None).collect(), probe: Arc::new(Probe::default()) })
    }

    /// Opens (or finds) every pair's direct conversation through
    /// `POST /api/messages/direct-connect`, as a client would; both servers
    /// implement it, so the same setup serves both.
    pub async fn setup(&mut self, target: &Target) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        let url = format!("{}/api/messages/direct-connect", target.base.trim_end_matches('/'));
        let pairs: Vec<(usize, String, String)> = (0..self.users.len() / 2)
            .map(|p| (p, self.users[2 * p].token.clone(), self.users[2 * p + 1].id.clone()))
            .collect();
        let mut results = futures::stream::iter(pairs)
            .map(|(p, token, target_id)| {
                let http = http.clone();
                let url = url.clone();
                async move {
                    let res = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({ "target_user_id": target_id }))
                        .send()
                        .await
                        .with_context(|| format!("direct-connect for pair {p}"))?;
                    let status = res.status();
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    match body["conversation"]["id"].as_str() {
                        Some(id) if status.is_success() => Ok((p, id.to_string())),
                        _ => bail!("direct-connect for pair {p} answered {status}: {body}"),
                    }
                }
            })
            .buffer_unordered(32);
        while let Some(result) = results.next().await {
            let (p, id) = result?;
            self.users[2 * p].conversation = id.clone();
            self.users[2 * p + 1].conversation = id;
        }
        Ok(started.elapsed())
    }

    /// Connects users `range` (authenticated by token), each joining its
    /// conversation; a user counts as connected once the join is acked.
    pub async fn connect(&mut self, target: &Target, range: Range<usize>) -> ConnectReport {
        let started = Instant::now();
        let failures = Failures::default();
        let attempted = range.len();
        let jobs = range.map(|i| {
            let mut opts = Options::lean(&self.users[i].token);
            opts.local_ip = Some(target.sources.for_client(i));
            opts.connect_timeout = Some(target.connect_timeout);
            opts.raw_hook = Some(self.probe.hook_for(i));
            let conversation = self.users[i].conversation.clone();
            let base = target.base.clone();
            let wait = target.connect_timeout;
            tokio::spawn(async move {
                let client = parley_client::connect(&base, opts).await.map_err(|e| (classify(&e), e.to_string()))?;
                // An event sent the moment the connect packet arrives can reach
                // the server before its connect handler has registered the event
                // handlers; it is then dropped without an ack. Count such joins and
                // ask once more, as a client with a retry would.
                let first = JOIN_FIRST_WAIT.min(wait);
                let mut retried = false;
                let mut answer = client.ack_within("join_conversation", json!(conversation), first).await;
                if matches!(answer, Err(parley_client::Error::Timeout(_))) {
                    retried = true;
                    answer = client.ack_within("join_conversation", json!(conversation), wait).await;
                }
                match answer {
                    Ok(ack) if ack["success"] == true => Ok((i, client, retried)),
                    Ok(ack) => Err((Failure::JoinFailed, ack.to_string())),
                    Err(e) => Err((classify(&e), format!("join_conversation: {e}"))),
                }
            })
        });
        let mut done = futures::stream::iter(jobs).buffer_unordered(target.connect_concurrency.max(1));
        let mut connected = 0;
        let mut join_retries = 0;
        while let Some(joined) = done.next().await {
            match joined {
                Ok(Ok((i, client, retried))) => {
                    self.clients[i] = Some(Arc::new(client));
                    connected += 1;
                    join_retries += usize::from(retried);
                }
                Ok(Err((kind, detail))) => failures.record(kind, detail),
                Err(e) => failures.record(Failure::Other, format!("task: {e}")),
            }
        }
        ConnectReport { attempted, connected, join_retries, elapsed: started.elapsed(), failures }
    }

    pub fn connected(&self) -> usize {
        self.clients.iter().filter(|c| c.as_ref().is_some_and(|c| !c.is_closed())).count()
    }

    /// Closes the sockets of users `from..`, so a scenario runs on the first
    /// `from` users only.
    pub async fn disconnect_from(&mut self, from: usize) {
        let mut closed = 0;
        for client in self.clients.iter_mut().skip(from) {
            if let Some(c) = client.take() {
                c.disconnect();
                closed += 1;
            }
        }
        if closed > 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// Closes every socket and waits a moment for the server to notice.
    pub async fn disconnect_all(&mut self) {
        for client in self.clients.iter_mut() {
            if let Some(c) = client.take() {
                c.disconnect();
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
