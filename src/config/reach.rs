//! Settings for reaching users who are not connected (contract section
//! 12): the offline email and mobile push. The provider credentials are
//! checked when the server builds its senders (`app::reach`), which names
//! the variable of a malformed one.

use std::time::Duration;

use super::{ConfigError, Secret, http_url, parse};

/// The default delay before an unread message is emailed: 30 minutes.
pub const DEFAULT_EMAIL_DELAY_MS: &str = "1800000";

#[derive(Clone, Debug)]
pub struct ReachSettings {
    /// `SMTP_URL`; email is off without it.
    pub smtp_url: Option<Secret>,
    /// `EMAIL_FROM`: `Name <address>` or an address.
    pub email_from: Option<String>,
    /// `EMAIL_DELAY_MS`: how long a notification stays unread, with its
    /// user offline, before the email.
    pub email_delay: Duration,
    /// `APP_URL`: the web app the email links lead to.
    pub app_url: String,
    /// `APP_NAME`: the product name in emails.
    pub app_name: String,
    /// Signs the unsubscribe links (`EMAIL_UNSUBSCRIBE_SECRET`, else derived from `JWT_SECRET`).
    pub unsubscribe_secret: Secret,
    pub fcm: Option<FcmSettings>,
    pub apns: Option<ApnsSettings>,
    /// `PUSH_TIMEOUT_MS`: one request to a push service.
    pub push_timeout: Duration,
    /// `PUSH_ATTEMPTS`: attempts in all while a service answers 429 or 5xx.
    pub push_attempts: u32,
    /// `PUSH_BACKOFF_MS`: the first wait between attempts (then doubling),
    /// when the service names none.
    pub push_backoff_first: Duration,
}

impl ReachSettings {
    pub fn email_enabled(&self) -> bool {
        self.smtp_url.is_some()
    }

    pub fn push_enabled(&self) -> bool {
        self.fcm.is_some() || self.apns.is_some()
    }
}

#[derive(Clone, Debug)]
pub struct FcmSettings {
    /// `FCM_SERVICE_ACCOUNT_JSON`: the JSON, or a path to the file.
    pub service_account: Secret,
    /// `FCM_PROJECT_ID`: when not the account's own `project_id`.
    pub project_id: Option<String>,
    /// `FCM_API_BASE`.
    pub api_base: String,
}

#[derive(Clone, Debug)]
pub struct ApnsSettings {
    /// `APNS_KEY_P8`: the .p8 key's text, or a path to it.
    pub key_p8: Secret,
    pub key_id: String,
    pub team_id: String,
    pub topic: String,
    /// `APNS_API_BASE`.
    pub api_base: String,
}

fn invalid(name: &str, why: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { name: name.into(), why: why.into() }
}

pub(super) fn reach_settings(
    var: &impl Fn(&str) -> Option<String>,
    jwt_secret: &Secret,
) -> Result<ReachSettings, ConfigError> {
    let smtp_url = var("SMTP_URL").map(Secret::new);
    let email_from = var("EMAIL_FROM");
    if smtp_url.is_some() && email_from.is_none() {
        return Err(invalid("EMAIL_FROM", "is required with SMTP_URL: the address emails come from"));
    }
    let app_url = var("APP_URL").unwrap_or_else(|| "http://127.0.0.1:5000".into()).trim_end_matches('/').to_string();
    http_url("APP_URL", &app_url)?;
    let unsubscribe_secret = match var("EMAIL_UNSUBSCRIBE_SECRET") {
        Some(secret) => Secret::new(secret),
        // Links stay valid across restarts as long as the token secret does.
        None => Secret::new(format!("parley-unsubscribe:{}", jwt_secret.expose())),
    };

    let fcm = match var("FCM_SERVICE_ACCOUNT_JSON") {
        None => None,
        Some(account) => {
            let api_base = var("FCM_API_BASE").unwrap_or_else(|| "https://fcm.googleapis.com".into());
            http_url("FCM_API_BASE", &api_base)?;
            Some(FcmSettings { service_account: Secret::new(account), project_id: var("FCM_PROJECT_ID"), api_base })
        }
    };
    let apns = match var("APNS_KEY_P8") {
        None => {
            if let Some(name) = ["APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC"].into_iter().find(|n| var(n).is_some()) {
                return Err(invalid(
                    "APNS_KEY_P8",
                    format!("is required with {name}: the key that signs provider tokens"),
                ));
            }
            None
        }
        Some(key) => {
            let required = |name: &str| var(name).ok_or_else(|| invalid(name, "is required with APNS_KEY_P8"));
            let api_base = var("APNS_API_BASE").unwrap_or_else(|| "https://api.push.apple.com".into());
            http_url("APNS_API_BASE", &api_base)?;
            Some(ApnsSettings {
                key_p8: Secret::new(key),
                key_id: required("APNS_KEY_ID")?,
                team_id: required("APNS_TEAM_ID")?,
                topic: required("APNS_TOPIC")?,
                api_base,
            })
        }
    };
    Ok(ReachSettings {
        smtp_url,
        email_from,
        email_delay: Duration::from_millis(parse(var, "EMAIL_DELAY_MS", DEFAULT_EMAIL_DELAY_MS)?),
        app_url,
        app_name: var("APP_NAME").unwrap_or_else(|| "Parley".into()),
        unsubscribe_secret,
        fcm,
        apns,
        push_timeout: Duration::from_millis(parse(var, "PUSH_TIMEOUT_MS", "10000")?),
        push_attempts: parse(var, "PUSH_ATTEMPTS", "4")?,
        push_backoff_first: Duration::from_millis(parse(var, "PUSH_BACKOFF_MS", "1000")?),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::Settings;

    #[test]
    fn email_needs_a_sender_and_defaults_to_thirty_minutes() {
        let vars = HashMap::from([("SMTP_URL", "smtp+plain://127.0.0.1:2525")]);
        let error = Settings::from_map(&vars).unwrap_err().to_string();
        assert!(error.starts_with("EMAIL_FROM"), "{error}");
        let vars = HashMap::from([("SMTP_URL", "smtp+plain://127.0.0.1:2525"), ("EMAIL_FROM", "a@b.test")]);
        let s = Settings::from_map(&vars).unwrap();
        assert!(s.reach.email_enabled());
        assert_eq!(s.reach.email_delay.as_millis(), 1_800_000);
        assert!(!s.reach.push_enabled());
    }

    #[test]
    fn apns_needs_every_part() {
        let vars = HashMap::from([("APNS_KEY_P8", "-----BEGIN PRIVATE KEY-----"), ("APNS_KEY_ID", "K")]);
        let error = Settings::from_map(&vars).unwrap_err().to_string();
        assert!(error.starts_with("APNS_TEAM_ID"), "{error}");
        let vars = HashMap::from([("APNS_TOPIC", "com.example")]);
        assert!(Settings::from_map(&vars).unwrap_err().to_string().starts_with("APNS_KEY_P8"));
    }
}
