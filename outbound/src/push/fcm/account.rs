//! The Google service account in `FCM_SERVICE_ACCOUNT_JSON` and the signed
//! JWT-bearer assertion it trades for an access token.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::Serialize;
use serde_json::Value;

use crate::{ConfigError, push::key_source::text_or_file};

const VARIABLE: &str = "FCM_SERVICE_ACCOUNT_JSON";
pub(crate) const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Google accepts assertions of at most an hour.
const ASSERTION_LIFETIME_SECS: u64 = 3_600;

pub(crate) struct ServiceAccount {
    pub client_email: String,
    pub token_uri: String,
    pub project_id: Option<String>,
    key_id: Option<String>,
    key: EncodingKey,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

fn field<'a>(json: &'a Value, name: &str) -> Result<&'a str, ConfigError> {
    match json.get(name) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text),
        Some(_) => Err(ConfigError::new(VARIABLE, format!("field {name} is not a non-empty string"))),
        None => Err(ConfigError::new(VARIABLE, format!("field {name} is missing"))),
    }
}

impl ServiceAccount {
    /// `value` is the JSON itself or a path to the file.
    pub fn load(value: &str) -> Result<Self, ConfigError> {
        let text = text_or_file(VARIABLE, value, |v| v.starts_with('{'))?;
        // serde_json's messages quote no values, so no key material leaks into them.
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| ConfigError::new(VARIABLE, format!("not JSON (line {}, column {})", e.line(), e.column())))?;
        let private_key = field(&json, "private_key")?;
        let key = EncodingKey::from_rsa_pem(private_key.replace("\\n", "\n").as_bytes())
            .map_err(|_| ConfigError::new(VARIABLE, "private_key is not an RSA private key in PEM"))?;
        let account = Self {
            client_email: field(&json, "client_email")?.to_owned(),
            token_uri: field(&json, "token_uri")?.to_owned(),
            project_id: field(&json, "project_id").ok().map(str::to_owned),
            key_id: field(&json, "private_key_id").ok().map(str::to_owned),
            key,
        };
        url::Url::parse(&account.token_uri).map_err(|_| ConfigError::new(VARIABLE, "token_uri is not a URL"))?;
        // Sign once now: a key that parses but cannot sign fails at start-up, not at the first push.
        account.assertion(0).map_err(|_| ConfigError::new(VARIABLE, "private_key cannot sign RS256"))?;
        Ok(account)
    }

    /// The RS256 assertion for the token endpoint, issued at `iat`.
    pub fn assertion(&self, iat: u64) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key_id.clone();
        let claims = Claims {
            iss: &self.client_email,
            scope: SCOPE,
            aud: &self.token_uri,
            iat,
            exp: iat + ASSERTION_LIFETIME_SECS,
        };
        encode(&header, &claims, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(value: &str) -> String {
        match ServiceAccount::load(value) {
            Ok(_) => panic!("accepted {value}"),
            Err(error) => {
                assert_eq!(error.variable, VARIABLE);
                error.reason
            }
        }
    }

    #[test]
    fn malformed_accounts_are_refused_with_the_reason() {
        assert_eq!(reason("{not json"), "not JSON (line 1, column 2)");
        assert_eq!(reason(r#"{"client_email":"a@b"}"#), "field private_key is missing");
        assert_eq!(
            reason(r#"{"private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#),
            "private_key is not an RSA private key in PEM"
        );
        assert_eq!(reason(r#"{"private_key": 7}"#), "field private_key is not a non-empty string");
    }

    #[test]
    fn a_path_that_does_not_exist_is_refused() {
        assert!(reason("/nonexistent/service-account.json").starts_with("cannot read the file"));
    }
}
