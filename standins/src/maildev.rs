//! A real SMTP server for tests: MailDev (npm, installed from
//! `tests/smtp/package-lock.json` with `npm ci --prefix tests/smtp`), started
//! on free ports, plain SMTP without STARTTLS, and a client for its REST API.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::oneshot,
};

/// How long MailDev may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum MailDevError {
    #[error("MailDev is not installed: run `npm ci --prefix tests/smtp` ({0} is missing)")]
    NotInstalled(String),
    #[error("MailDev did not start: {0}")]
    Start(String),
}

/// An address as MailDev's parser reports it.
#[derive(Clone, Debug, Deserialize)]
pub struct Address {
    pub address: String,
    #[serde(default)]
    pub name: String,
}

/// One email as MailDev parsed it: headers (lower-case names), both parts decoded.
#[derive(Clone, Debug, Deserialize)]
pub struct ReceivedEmail {
    pub id: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub from: Vec<Address>,
    #[serde(default)]
    pub to: Vec<Address>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub headers: Map<String, Value>,
}

impl ReceivedEmail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).and_then(Value::as_str)
    }
}

pub struct MailDev {
    _child: Child,
    dir: PathBuf,
    pub smtp_port: u16,
    pub web_port: u16,
    http: reqwest::Client,
}

impl Drop for MailDev {
    fn drop(&mut self) {
        // The child is killed by kill_on_drop; its mail directory goes too.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl MailDev {
    /// Accepts mail from anyone.
    pub async fn start() -> Result<Self, MailDevError> {
        Self::launch(None).await
    }

    /// Requires SMTP AUTH with this user and password (offered without STARTTLS).
    pub async fn start_with_auth(user: &str, password: &str) -> Result<Self, MailDevError> {
        Self::launch(Some((user, password))).await
    }

    async fn launch(auth: Option<(&str, &str)>) -> Result<Self, MailDevError> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/smtp");
        let bin = root.join("node_modules/maildev/bin/maildev");
        if !bin.exists() {
            return Err(MailDevError::NotInstalled(bin.display().to_string()));
        }
        let (smtp_port, web_port) = (free_port(), free_port());
        let dir = std::env::temp_dir().join(format!("parley-maildev-{}-{smtp_port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| MailDevError::Start(e.to_string()))?;
        let mut command = Command::new("node");
        command
            .arg(&bin)
            .args(["--smtp", &smtp_port.to_string(), "--web", &web_port.to_string()])
            .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1"])
            .arg("--mail-directory")
            .arg(&dir)
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some((user, password)) = auth {
            command.args(["--incoming-user", user, "--incoming-pass", password]);
        }
        let mut child = command.spawn().map_err(|e| MailDevError::Start(format!("node: {e}")))?;
        let stdout = child.stdout.take().ok_or_else(|| MailDevError::Start("no stdout".into()))?;
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            let (mut smtp, mut web, mut ready_tx) = (false, false, Some(ready_tx));
            while let Ok(Some(line)) = lines.next_line().await {
                smtp |= line.contains("SMTP Server running");
                web |= line.contains("webapp running");
                if smtp
                    && web
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(());
                }
            }
        });
        match tokio::time::timeout(START_TIMEOUT, ready_rx).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(MailDevError::Start("it exited before listening".into())),
            Err(_) => return Err(MailDevError::Start(format!("not listening after {START_TIMEOUT:?}"))),
        }
        Ok(Self { _child: child, dir, smtp_port, web_port, http: reqwest::Client::new() })
    }

    /// `SMTP_URL` for a relay without TLS.
    pub fn smtp_plain_url(&self) -> String {
        format!("smtp+plain://127.0.0.1:{}", self.smtp_port)
    }

    /// `SMTP_URL` with STARTTLS when offered (MailDev offers none).
    pub fn smtp_url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(userinfo) => format!("smtp://{userinfo}@127.0.0.1:{}", self.smtp_port),
            None => format!("smtp://127.0.0.1:{}", self.smtp_port),
        }
    }

    fn api(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.web_port)
    }

    /// Every email received so far, oldest first.
    pub async fn emails(&self) -> Vec<ReceivedEmail> {
        let response = self.http.get(self.api("/email")).send().await.expect("MailDev API");
        response.error_for_status().expect("MailDev API status").json().await.expect("MailDev email list")
    }

    /// The raw message as it arrived over SMTP.
    pub async fn source(&self, id: &str) -> String {
        let response = self.http.get(self.api(&format!("/email/{id}/source"))).send().await.expect("MailDev API");
        response.error_for_status().expect("MailDev API status").text().await.expect("MailDev source")
    }

    /// Waits until at least `n` emails have arrived, then returns them all.
    /// MailDev parses a message after the SMTP exchange ends, so the API is
    /// asked again every 20 ms until it lists them.
    pub async fn wait_for_emails(&self, n: usize, within: Duration) -> Vec<ReceivedEmail> {
        let deadline = Instant::now() + within;
        loop {
            let emails = self.emails().await;
            if emails.len() >= n {
                return emails;
            }
            assert!(Instant::now() < deadline, "waited {within:?} for {n} emails, MailDev has {}", emails.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
