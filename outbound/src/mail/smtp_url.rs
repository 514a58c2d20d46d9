//! `SMTP_URL`: `smtp://` (STARTTLS when the server offers it), `smtps://`
//! (TLS from the first byte) or `smtp+plain://` (a local relay, no TLS), with
//! optional URL-encoded `user:password@`.

use percent_encoding::percent_decode_str;
use url::{Host, Url};

use crate::ConfigError;

const VARIABLE: &str = "SMTP_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: upgrade with STARTTLS when offered, else stay in clear text.
    StartTlsWhenOffered,
    /// `smtps://`: implicit TLS.
    Tls,
    /// `smtp+plain://`: never TLS.
    Plain,
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SmtpTarget {
    pub security: Security,
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpTarget")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish()
    }
}

fn invalid(reason: impl Into<String>) -> ConfigError {
    ConfigError::new(VARIABLE, reason)
}

fn decode(part: &str, what: &str) -> Result<String, ConfigError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| invalid(format!("the {what} is not URL-encoded UTF-8")))
}

pub(crate) fn parse(value: &str) -> Result<SmtpTarget, ConfigError> {
    // The parser's messages never repeat the input, which may hold a password.
    let url = Url::parse(value.trim()).map_err(|e| invalid(format!("not a URL ({e})")))?;
    let (security, default_port) = match url.scheme() {
        "smtp" => (Security::StartTlsWhenOffered, 587),
        "smtps" => (Security::Tls, 465),
        "smtp+plain" => (Security::Plain, 25),
        other => {
            return Err(invalid(format!("unsupported scheme {other:?}: use smtp://, smtps:// or smtp+plain://")));
        }
    };
    let host = match url.host() {
        Some(Host::Domain(name)) if !name.is_empty() => name.to_owned(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        _ => return Err(invalid("no host name")),
    };
    let port = url.port().unwrap_or(default_port);
    let credentials = match (url.username(), url.password()) {
        ("", None) => None,
        ("", Some(_)) => return Err(invalid("a password without a user name")),
        (user, password) => Some((decode(user, "user name")?, decode(password.unwrap_or(""), "password")?)),
    };
    Ok(SmtpTarget { security, host, port, credentials })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_with_encoded_credentials() {
        let target = parse("smtp://mailer%40example.com:p%40ss%3Aw%2Frd@mail.example.com:2525").unwrap();
        assert_eq!(target.security, Security::StartTlsWhenOffered);
        assert_eq!(target.host, "mail.example.com");
        assert_eq!(target.port, 2525);
        assert_eq!(target.credentials, Some(("mailer@example.com".into(), "p@ss:w/rd".into())));
    }

    #[test]
    fn default_ports_follow_the_scheme() {
        assert_eq!(parse("smtp://mail.example.com").unwrap().port, 587);
        assert_eq!(parse("smtps://mail.example.com").unwrap().port, 465);
        let relay = parse("smtp+plain://127.0.0.1").unwrap();
        assert_eq!((relay.security, relay.port, relay.credentials), (Security::Plain, 25, None));
    }

    #[test]
    fn implicit_tls_and_ipv6_hosts() {
        let target = parse("smtps://u:p@[::1]:1465").unwrap();
        assert_eq!((target.security, target.host.as_str(), target.port), (Security::Tls, "::1", 1465));
    }

    #[test]
    fn a_user_without_a_password_is_kept() {
        assert_eq!(parse("smtp://apikey@relay").unwrap().credentials, Some(("apikey".into(), String::new())));
    }

    #[test]
    fn errors_name_the_variable_and_never_the_password() {
        for bad in [
            "mail.example.com:587",
            "http://u:hunter2@mail.example.com",
            "smtp://u:hunter2@mail.example.com:99999",
            "smtp://:hunter2@mail.example.com",
            "smtp://u:hunter2%FF@mail.example.com",
            "smtp+plain://",
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.variable, "SMTP_URL", "{bad}");
            let text = error.to_string();
            assert!(text.starts_with("SMTP_URL: "), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn the_debug_form_hides_the_password() {
        let target = parse("smtp://u:hunter2@mail.example.com").unwrap();
        assert!(!format!("{target:?}").contains("hunter2"));
    }
}
