//! Firebase Cloud Messaging, HTTP v1 API.

mod account;
mod response;
mod token;

use std::{sync::Arc, time::Duration};

use reqwest::{Client, header::AUTHORIZATION};
use serde_json::{Value, json};

use super::{Answer, PushMessage, PushOutcome, PushProvider, renewing_once};
use crate::{
    ConfigError,
    clock::{Clock, SystemClock},
    http::{describe, read_body, retry_after},
};
use account::ServiceAccount;
use response::classify;
use token::{AccessTokens, TokenError};

pub const DEFAULT_API_BASE: &str = "https://fcm.googleapis.com";

/// FCM's settings, as the server read them.
#[derive(Clone)]
pub struct FcmSettings {
    /// `FCM_SERVICE_ACCOUNT_JSON`: the JSON text, or a path to the file.
    pub service_account: String,
    /// `FCM_PROJECT_ID`: overrides the account's `project_id`.
    pub project_id: Option<String>,
    /// `FCM_API_BASE`.
    pub api_base: String,
    /// Each request: the token fetch, and the send.
    pub timeout: Duration,
}

impl FcmSettings {
    pub fn new(service_account: impl Into<String>) -> Self {
        Self {
            service_account: service_account.into(),
            project_id: None,
            api_base: DEFAULT_API_BASE.into(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for FcmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmSettings")
            .field("project_id", &self.project_id)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

pub struct Fcm {
    client: Client,
    account: ServiceAccount,
    send_url: String,
    timeout: Duration,
    tokens: AccessTokens,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Fcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fcm").field("send_url", &self.send_url).finish_non_exhaustive()
    }
}

impl Fcm {
    pub fn new(settings: &FcmSettings) -> Result<Self, ConfigError> {
        Self::with_clock(settings, Arc::new(SystemClock))
    }

    pub fn with_clock(settings: &FcmSettings, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let account = ServiceAccount::load(&settings.service_account)?;
        let project = settings
            .project_id
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .or(account.project_id.as_deref())
            .ok_or_else(|| ConfigError::new("FCM_PROJECT_ID", "not set, and the service account has no project_id"))?
            .to_owned();
        let base = settings.api_base.trim().trim_end_matches('/');
        url::Url::parse(base).map_err(|_| ConfigError::new("FCM_API_BASE", "not a URL"))?;
        let client =
            Client::builder().build().map_err(|e| ConfigError::new("FCM_API_BASE", format!("no HTTP client: {e}")))?;
        Ok(Self {
            client,
            account,
            send_url: format!("{base}/v1/projects/{project}/messages:send"),
            timeout: settings.timeout,
            tokens: AccessTokens::default(),
            clock,
        })
    }

    async fn attempt(&self, body: &Value) -> Result<Answer, PushOutcome> {
        let access =
            self.tokens.get(&self.client, &self.account, &*self.clock, self.timeout).await.map_err(|e| match e {
                TokenError::Unavailable(why) => {
                    tracing::warn!(%why, "FCM token endpoint unavailable");
                    PushOutcome::Retry { after: None }
                }
                TokenError::Refused(why) => PushOutcome::Failed { why },
            })?;
        let response = self
            .client
            .post(&self.send_url)
            .timeout(self.timeout)
            .header(AUTHORIZATION, format!("Bearer {access}"))
            .json(body)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %describe(e, self.timeout), "FCM send failed");
                PushOutcome::Retry { after: None }
            })?;
        let status = response.status().as_u16();
        let after = retry_after(&response, self.clock.now());
        let body = read_body(response).await.unwrap_or_default();
        let answer = classify(status, after, &body);
        if answer == Answer::RenewCredential {
            self.tokens.forget(&access).await;
        }
        Ok(answer)
    }
}

/// The v1 message: the notification, the data as strings, and the badge
/// for Android and for iOS devices reached through FCM.
fn payload(device_token: &str, message: &PushMessage) -> Value {
    json!({
        "message": {
            "token": device_token,
            "notification": { "title": message.title, "body": message.body },
            "data": message.fields(),
            "android": { "priority": "HIGH", "notification": { "notification_count": message.badge } },
            "apns": { "payload": { "aps": { "badge": message.badge } } },
        }
    })
}

#[async_trait::async_trait]
impl PushProvider for Fcm {
    fn platform(&self) -> &'static str {
        "fcm"
    }

    #[tracing::instrument(skip_all, fields(platform = "fcm"))]
    async fn send(&self, device_token: &str, message: &PushMessage) -> PushOutcome {
        let body = payload(device_token, message);
        // A refused access token is fetched again once (it may have been revoked early).
        renewing_once(|| self.attempt(&body), "FCM refused a freshly fetched access token (HTTP 401)").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_payload_follows_the_v1_message_shape() {
        let message = PushMessage {
            title: "Bloom".into(),
            body: "Hi!".into(),
            kind: "new_message".into(),
            conversation_id: Some("c1".into()),
            badge: 3,
            data: BTreeMap::from([("message_id".into(), "m9".into())]),
        };
        assert_eq!(
            payload("device-1", &message),
            json!({"message": {
                "token": "device-1",
                "notification": {"title": "Bloom", "body": "Hi!"},
                "data": {"type": "new_message", "conversation_id": "c1", "message_id": "m9"},
                "android": {"priority": "HIGH", "notification": {"notification_count": 3}},
                "apns": {"payload": {"aps": {"badge": 3}}},
            }})
        );
    }

    #[test]
    fn a_missing_project_names_fcm_project_id() {
        let account = parley_standins::keys::TestServiceAccount::generate("http://127.0.0.1:9/token");
        let mut json: Value = serde_json::from_str(&account.json()).unwrap();
        json.as_object_mut().unwrap().remove("project_id");
        let error = Fcm::new(&FcmSettings::new(json.to_string())).unwrap_err();
        assert_eq!(error.variable, "FCM_PROJECT_ID");
    }

    #[test]
    fn the_project_override_wins() {
        let account = parley_standins::keys::TestServiceAccount::generate("http://127.0.0.1:9/token");
        let mut settings = FcmSettings::new(account.json());
        settings.project_id = Some("other-project".into());
        settings.api_base = "http://127.0.0.1:9/".into();
        let fcm = Fcm::new(&settings).unwrap();
        assert_eq!(fcm.send_url, "http://127.0.0.1:9/v1/projects/other-project/messages:send");
    }
}
