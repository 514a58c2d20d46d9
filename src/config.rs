//! Typed settings, read once from the environment (and `.env` when present)
//! and handed to [`crate::Application::build`]. Tests build them from a map.

mod reach;
mod rules;

use std::{collections::HashMap, fmt, net::IpAddr, path::PathBuf, time::Duration};

pub use reach::{ApnsSettings, FcmSettings, ReachSettings};
pub use rules::{ModerationSettings, TimeRules, WebhookSettings};
use rules::{moderation, time_rules, webhook_settings};

/// A secret value: usable, but never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// How Socket.IO packets are encoded; one per server, as in Socket.IO,
/// so every client of a server uses the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketParser {
    /// JSON text frames (the default of every Socket.IO client).
    Default,
    /// MessagePack binary frames (`socket.io-msgpack-parser`).
    MsgPack,
}

#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// HS256 secret. In development it is generated when not configured.
    pub secret: Secret,
    /// Set when `secret` was generated at start-up rather than configured.
    pub secret_generated: bool,
    /// PEM public key for RS256/ES256 tokens.
    pub public_key_pem: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct RazorpaySettings {
    pub key_id: Option<String>,
    pub key_secret: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    pub api_base: String,
    pub timeout: Duration,
    pub currency: String,
    /// Shown in the checkout form.
    pub merchant_name: String,
}

impl RazorpaySettings {
    /// Whether a real (or stand-in) gateway is configured; without one,
    /// development uses the built-in sandbox.
    pub fn has_keys(&self) -> bool {
        self.key_id.is_some() && self.key_secret.is_some()
    }
}

/// Per-user budgets: `burst` events at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: f64,
}

#[derive(Clone, Debug)]
pub struct RateLimits {
    pub enabled: bool,
    pub messages: RateLimit,
    pub typing: RateLimit,
    pub actions: RateLimit,
    pub rest_writes: RateLimit,
    pub connections: RateLimit,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub app_env: AppEnv,
    pub host: IpAddr,
    pub port: u16,
    pub database_url: String,
    pub database_max_connections: u32,
    pub jwt: JwtSettings,
    pub redis_url: Option<String>,
    pub razorpay: RazorpaySettings,
    /// Platform commission in basis points (10 % = 1000).
    pub commission_bps: u32,
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    /// `SOCKETIO_PARSER`: `default` or `msgpack`.
    pub socketio_parser: SocketParser,
    pub system_user_id: String,
    pub typing_timeout: Duration,
    /// engine.io heartbeat: a ping every `ping_interval`, answered within `ping_timeout`.
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// How long an engine.io session may stay without a Socket.IO connection
    /// (one never made, or refused) before it is closed.
    pub connect_timeout: Duration,
    pub shutdown_grace: Duration,
    pub presence_ttl: Duration,
    /// With several nodes: how long a stored message may wait for its emit
    /// before a surviving node emits it instead.
    pub redelivery_after: Duration,
    pub rate_limits: RateLimits,
    /// The demo page from a directory; `None` serves the copy embedded at build time.
    pub static_dir: Option<PathBuf>,
    /// How long one HTTP request (reading its body and answering) may take.
    pub request_timeout: Duration,
    /// How long a client may take to send a request's head (slow clients).
    pub header_read_timeout: Duration,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<Secret>,
    pub max_revisions: i32,
    /// Sockets of the older protocol may connect without a token and send
    /// `authenticate {token}` within `legacy_auth_timeout`.
    pub legacy_auth_event: bool,
    /// How long such a socket has to authenticate (10 s).
    pub legacy_auth_timeout: Duration,
    pub webhooks: WebhookSettings,
    pub time_rules: TimeRules,
    pub moderation: ModerationSettings,
    /// Offline email and push (contract section 12).
    pub reach: ReachSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is required when APP_ENV=production: {why}")]
    MissingInProduction { name: &'static str, why: &'static str },
    #[error("{name} has an invalid value: {why}")]
    Invalid { name: String, why: String },
}

impl Settings {
    /// Reads `.env` (when present) and the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is reported by the lookup below.
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from a map of variables, ignoring the environment.
    pub fn from_map(vars: &HashMap<&str, &str>) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| vars.get(name).map(|v| v.to_string()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());

        let app_env = match var("APP_ENV").as_deref() {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "APP_ENV".into(),
                    why: format!("expected development or production, got {other:?}"),
                });
            }
        };
        let production = app_env == AppEnv::Production;

        let host = parse(&var, "HOST", "127.0.0.1")?;
        let port = parse(&var, "PORT", "5000")?;
        let database_url = var("DATABASE_URL").unwrap_or_else(|| "sqlite://parley.db?mode=rwc".into());
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL".into(),
                why: "expected a sqlite:// or postgres:// URL".into(),
            });
        }

        let redis_url = var("REDIS_URL");
        if redis_url.is_some() && !database_url.starts_with("postgres") {
            return Err(ConfigError::Invalid {
                name: "REDIS_URL".into(),
                why: "several nodes need a shared PostgreSQL database: set DATABASE_URL to postgres://... \
                      (an embedded SQLite file cannot be shared), or unset REDIS_URL to run one node"
                    .into(),
            });
        }

        let public_key_pem = var("JWT_PUBLIC_KEY").map(|pem| Secret::new(pem.replace("\\n", "\n")));
        let (secret, secret_generated) = match var("JWT_SECRET") {
            Some(secret) => (Secret::new(secret), false),
            None if production && public_key_pem.is_none() => {
                return Err(ConfigError::MissingInProduction {
                    name: "JWT_SECRET",
                    why: "tokens cannot be verified without JWT_SECRET (or JWT_PUBLIC_KEY)",
                });
            }
            None => (Secret::new(random_hex(32)), true),
        };

        let razorpay = RazorpaySettings {
            key_id: var("RAZORPAY_KEY_ID"),
            key_secret: var("RAZORPAY_KEY_SECRET").map(Secret::new),
            webhook_secret: var("RAZORPAY_WEBHOOK_SECRET").map(Secret::new),
            api_base: var("RAZORPAY_API_BASE")
                .unwrap_or_else(|| "https://api.razorpay.com".into())
                .trim_end_matches('/')
                .to_string(),
            timeout: Duration::from_millis(parse(&var, "RAZORPAY_TIMEOUT_MS", "10000")?),
            currency: "INR".into(),
            merchant_name: var("PAYMENT_MERCHANT_NAME").unwrap_or_else(|| "Parley".into()),
        };
        if production {
            for (name, present) in [
                ("RAZORPAY_KEY_ID", razorpay.key_id.is_some()),
                ("RAZORPAY_KEY_SECRET", razorpay.key_secret.is_some()),
                ("RAZORPAY_WEBHOOK_SECRET", razorpay.webhook_secret.is_some()),
            ] {
                if !present {
                    return Err(ConfigError::MissingInProduction {
                        name,
                        why: "payments cannot run without the gateway's keys (the sandbox exists only in development)",
                    });
                }
            }
        }

        let commission: f64 = parse(&var, "PLATFORM_COMMISSION_PERCENT", "10")?;
        if !(0.0..=100.0).contains(&commission) {
            return Err(ConfigError::Invalid {
                name: "PLATFORM_COMMISSION_PERCENT".into(),
                why: "expected a percentage between 0 and 100".into(),
            });
        }

        let log_format = match var("LOG_FORMAT").as_deref() {
            None => {
                if production {
                    LogFormat::Json
                } else {
                    LogFormat::Pretty
                }
            }
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT".into(),
                    why: format!("expected pretty or json, got {other:?}"),
                });
            }
        };

        let socketio_parser = match var("SOCKETIO_PARSER").as_deref() {
            None | Some("default") | Some("json") => SocketParser::Default,
            Some("msgpack") => SocketParser::MsgPack,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "SOCKETIO_PARSER".into(),
                    why: format!("expected default or msgpack, got {other:?}"),
                });
            }
        };

        let limit = |prefix: &'static str, burst: &str, rate: &str| -> Result<RateLimit, ConfigError> {
            Ok(RateLimit {
                burst: parse_named(&var, prefix, "_BURST", burst)?,
                per_second: parse_named(&var, prefix, "_PER_SECOND", rate)?,
            })
        };
        let rate_limits = RateLimits {
            enabled: parse(&var, "RATE_LIMIT_ENABLED", "true")?,
            messages: limit("RATE_LIMIT_MESSAGES", "30", "10")?,
            typing: limit("RATE_LIMIT_TYPING", "20", "5")?,
            actions: limit("RATE_LIMIT_ACTIONS", "20", "5")?,
            rest_writes: limit("RATE_LIMIT_REST_WRITES", "60", "20")?,
            connections: limit("RATE_LIMIT_CONNECTIONS", "20", "2")?,
        };

        Ok(Settings {
            app_env,
            host,
            port,
            database_url,
            database_max_connections: parse(&var, "DATABASE_MAX_CONNECTIONS", "16")?,
            jwt: JwtSettings { secret: secret.clone(), secret_generated, public_key_pem },
            redis_url,
            razorpay,
            commission_bps: (commission * 100.0).round() as u32,
            cors_origins: var("CORS_ORIGIN")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            log_format,
            socketio_parser,
            system_user_id: var("SYSTEM_USER_ID").unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into()),
            typing_timeout: Duration::from_millis(parse(&var, "TYPING_TIMEOUT_MS", "8000")?),
            ping_interval: Duration::from_millis(parse(&var, "PING_INTERVAL_MS", "25000")?),
            ping_timeout: Duration::from_millis(parse(&var, "PING_TIMEOUT_MS", "20000")?),
            connect_timeout: Duration::from_millis(parse(&var, "CONNECT_TIMEOUT_MS", "45000")?),
            shutdown_grace: Duration::from_millis(parse(&var, "SHUTDOWN_GRACE_MS", "10000")?),
            presence_ttl: Duration::from_millis(parse(&var, "PRESENCE_TTL_MS", "30000")?),
            redelivery_after: Duration::from_millis(parse(&var, "REDELIVERY_AFTER_MS", "30000")?),
            rate_limits,
            static_dir: var("STATIC_DIR").map(PathBuf::from),
            request_timeout: Duration::from_millis(parse(&var, "REQUEST_TIMEOUT_MS", "30000")?),
            header_read_timeout: Duration::from_millis(parse(&var, "HEADER_READ_TIMEOUT_MS", "10000")?),
            metrics_token: var("METRICS_TOKEN").map(Secret::new),
            max_revisions: parse(&var, "MAX_REVISIONS", "3")?,
            legacy_auth_event: parse(&var, "LEGACY_AUTH_EVENT", "false")?,
            legacy_auth_timeout: Duration::from_millis(parse(&var, "LEGACY_AUTH_TIMEOUT_MS", "10000")?),
            webhooks: webhook_settings(&var)?,
            time_rules: time_rules(&var)?,
            moderation: moderation(&var)?,
            reach: reach::reach_settings(&var, &secret)?,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    /// The development sandbox gateway is used when no keys are configured.
    pub fn uses_payment_sandbox(&self) -> bool {
        !self.is_production() && !self.razorpay.has_keys()
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }
}

/// A comma-separated list, blanks dropped.
fn list(raw: Option<String>) -> Vec<String> {
    raw.map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
}

fn http_url(name: &str, url: &str) -> Result<(), ConfigError> {
    let lower = url.to_ascii_lowercase();
    if (lower.starts_with("http://") || lower.starts_with("https://")) && url.len() > "https://".len() {
        Ok(())
    } else {
        Err(ConfigError::Invalid { name: name.into(), why: format!("expected http:// or https:// URLs, got {url:?}") })
    }
}

fn parse<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: &str,
) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    let raw = var(name).unwrap_or_else(|| default.to_string());
    raw.parse().map_err(|e: T::Err| ConfigError::Invalid { name: name.to_string(), why: format!("{raw:?}: {e}") })
}

fn parse_named<T: std::str::FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    prefix: &'static str,
    suffix: &'static str,
    default: &str,
) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    parse(var, &format!("{prefix}{suffix}"), default)
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests;
