//! Apple Push Notification service over HTTP/2 with a provider token.

mod response;
mod token;

use std::{sync::Arc, time::Duration};

use jsonwebtoken::EncodingKey;
use reqwest::{Client, header::AUTHORIZATION};
use serde_json::{Map, Value, json};

use super::{Answer, PushMessage, PushOutcome, PushProvider, key_source::text_or_file, renewing_once};
use crate::{
    ConfigError,
    clock::{Clock, SystemClock},
    http::{describe, read_body, retry_after},
};
use response::classify;
use token::ProviderTokens;

pub const DEFAULT_API_BASE: &str = "https://api.push.apple.com";
/// For development builds of the app.
pub const SANDBOX_API_BASE: &str = "https://api.sandbox.push.apple.com";

/// APNs's settings, as the server read them.
#[derive(Clone)]
pub struct ApnsSettings {
    /// `APNS_KEY_P8`: the .p8 key's PEM text, or a path to it.
    pub key_p8: String,
    /// `APNS_KEY_ID`.
    pub key_id: String,
    /// `APNS_TEAM_ID`.
    pub team_id: String,
    /// `APNS_TOPIC`: the app's bundle id.
    pub topic: String,
    /// `APNS_API_BASE`; an `http://` base is spoken in cleartext HTTP/2.
    pub api_base: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for ApnsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsSettings")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("topic", &self.topic)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

pub struct Apns {
    client: Client,
    base: String,
    topic: String,
    timeout: Duration,
    tokens: ProviderTokens,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Apns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apns").field("base", &self.base).field("topic", &self.topic).finish_non_exhaustive()
    }
}

fn required(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    if value.is_empty() { Err(ConfigError::new(variable, "missing")) } else { Ok(value.to_owned()) }
}

impl Apns {
    pub fn new(settings: &ApnsSettings) -> Result<Self, ConfigError> {
        Self::with_clock(settings, Arc::new(SystemClock))
    }

    pub fn with_clock(settings: &ApnsSettings, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        // `\n` may stand for a newline, for one-line env files.
        let pem = text_or_file("APNS_KEY_P8", &settings.key_p8, |v| v.contains("-----BEGIN"))?.replace("\\n", "\n");
        let key = EncodingKey::from_ec_pem(pem.as_bytes())
            .map_err(|_| ConfigError::new("APNS_KEY_P8", "not an EC private key in PKCS#8 PEM (a .p8 file)"))?;
        let tokens = ProviderTokens::new(
            key,
            required("APNS_KEY_ID", &settings.key_id)?,
            required("APNS_TEAM_ID", &settings.team_id)?,
        );
        // Sign once now: a key that parses but is not P-256 fails at start-up.
        tokens.sign(0).map_err(|_| ConfigError::new("APNS_KEY_P8", "the key cannot sign ES256 (P-256)"))?;
        let base = settings.api_base.trim().trim_end_matches('/').to_owned();
        url::Url::parse(&base).map_err(|_| ConfigError::new("APNS_API_BASE", "not a URL"))?;
        // APNs speaks only HTTP/2: negotiated by ALPN over TLS, and with prior
        // knowledge over an http:// base.
        let client = Client::builder()
            .http2_prior_knowledge()
            .build()
            .map_err(|e| ConfigError::new("APNS_API_BASE", format!("no HTTP client: {e}")))?;
        Ok(Self {
            client,
            base,
            topic: required("APNS_TOPIC", &settings.topic)?,
            timeout: settings.timeout,
            tokens,
            clock,
        })
    }

    async fn attempt(&self, device_token: &str, body: &Value) -> Result<Answer, PushOutcome> {
        let jwt = self
            .tokens
            .get(&*self.clock)
            .map_err(|e| PushOutcome::Failed { why: format!("signing the provider token: {e}") })?;
        let response = self
            .client
            .post(format!("{}/3/device/{device_token}", self.base))
            .timeout(self.timeout)
            .header(AUTHORIZATION, format!("bearer {jwt}"))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .json(body)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %describe(e, self.timeout), "APNs send failed");
                PushOutcome::Retry { after: None }
            })?;
        let status = response.status().as_u16();
        let after = retry_after(&response, self.clock.now());
        let answer = classify(status, after, &read_body(response).await.unwrap_or_default());
        if answer == Answer::RenewCredential {
            self.tokens.forget(&jwt);
        }
        Ok(answer)
    }
}

/// `{aps: {alert: {title, body}, badge, sound}, type, conversation_id, …}`.
fn payload(message: &PushMessage) -> Value {
    let mut body: Map<String, Value> =
        message.fields().into_iter().map(|(key, value)| (key, Value::String(value))).collect();
    body.insert(
        "aps".into(),
        json!({
            "alert": { "title": message.title, "body": message.body },
            "badge": message.badge,
            "sound": "default",
        }),
    );
    Value::Object(body)
}

/// A device token is hex; anything else must not reach the URL path.
fn plausible_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 200 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[async_trait::async_trait]
impl PushProvider for Apns {
    fn platform(&self) -> &'static str {
        "apns"
    }

    #[tracing::instrument(skip_all, fields(platform = "apns"))]
    async fn send(&self, device_token: &str, message: &PushMessage) -> PushOutcome {
        if !plausible_token(device_token) {
            return PushOutcome::Gone;
        }
        let body = payload(message);
        renewing_once(|| self.attempt(device_token, &body), "APNs called a freshly signed provider token expired").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_payload_has_aps_and_the_app_fields() {
        let message = PushMessage {
            title: "Bloom".into(),
            body: "Hi!".into(),
            kind: "new_message".into(),
            conversation_id: Some("c1".into()),
            badge: 2,
            data: BTreeMap::from([("message_id".into(), "m9".into())]),
        };
        assert_eq!(
            payload(&message),
            json!({
                "aps": {"alert": {"title": "Bloom", "body": "Hi!"}, "badge": 2, "sound": "default"},
                "type": "new_message", "conversation_id": "c1", "message_id": "m9",
            })
        );
    }

    #[test]
    fn device_tokens_are_hex() {
        assert!(plausible_token("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"));
        assert!(!plausible_token("../../3/device/x"));
        assert!(!plausible_token(""));
    }

    fn settings(key_p8: &str) -> ApnsSettings {
        ApnsSettings {
            key_p8: key_p8.into(),
            key_id: "KEY1234567".into(),
            team_id: "TEAM123456".into(),
            topic: "com.example.app".into(),
            api_base: "http://127.0.0.1:9".into(),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_malformed_key_names_apns_key_p8() {
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(Apns::new(&settings(garbage)).unwrap_err().variable, "APNS_KEY_P8");
        assert_eq!(Apns::new(&settings("/nonexistent/AuthKey.p8")).unwrap_err().variable, "APNS_KEY_P8");
        let rsa = parley_standins::keys::TestServiceAccount::generate("http://127.0.0.1:9/token");
        assert_eq!(Apns::new(&settings(&rsa.private_key_pem)).unwrap_err().variable, "APNS_KEY_P8");
    }

    #[test]
    fn missing_ids_and_topic_are_named() {
        let key = parley_standins::keys::TestApnsKey::generate();
        let mut s = settings(&key.p8_pem);
        s.team_id = " ".into();
        assert_eq!(Apns::new(&s).unwrap_err().variable, "APNS_TEAM_ID");
        let mut s = settings(&key.p8_pem);
        s.topic = String::new();
        assert_eq!(Apns::new(&s).unwrap_err().variable, "APNS_TOPIC");
        assert!(Apns::new(&settings(&key.p8_pem)).is_ok());
    }

    #[test]
    fn a_key_on_one_line_with_escaped_newlines_is_read() {
        let key = parley_standins::keys::TestApnsKey::generate();
        assert!(Apns::new(&settings(&key.p8_pem.replace('\n', "\\n"))).is_ok());
    }
}
