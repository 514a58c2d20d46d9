//! The command line: `parley [serve|migrate]`, with every environment
//! variable the server reads (and its default) in `--help`.

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "parley", version, about = "A self-hosted Socket.IO conversation server for two-sided marketplaces")]
#[command(after_long_help = env_help(), after_help = "Settings come from the environment (and .env); `--help` lists them.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Run the server (the default): HTTP, Socket.IO and the demo page on HOST:PORT.
    #[command(after_long_help = env_help())]
    Serve,
    /// Apply the database migrations to DATABASE_URL and exit.
    #[command(
        after_long_help = "Reads DATABASE_URL (default sqlite://parley.db?mode=rwc, relative to the working directory)."
    )]
    Migrate,
}

impl Cli {
    pub fn command(&self) -> Command {
        self.command.unwrap_or(Command::Serve)
    }
}

/// Every variable the settings read: name, default, what it is.
pub const ENV: &[(&str, &str, &str)] = &[
    ("APP_ENV", "development", "development or production (production refuses missing secrets)"),
    ("HOST", "127.0.0.1", "address to listen on"),
    ("PORT", "5000", "port to listen on (0: any free port)"),
    ("DATABASE_URL", "sqlite://parley.db?mode=rwc", "sqlite:// or postgres:// URL"),
    ("DATABASE_MAX_CONNECTIONS", "16", "database pool size"),
    ("JWT_SECRET", "random per run (development)", "HS256 secret that verifies tokens"),
    ("JWT_PUBLIC_KEY", "-", "PEM RSA or EC public key for RS256/ES256 tokens"),
    ("REDIS_URL", "-", "Redis for several nodes (needs PostgreSQL)"),
    ("CORS_ORIGIN", "any (development), none (production)", "comma-separated browser origins"),
    ("LOG_FORMAT", "pretty (json in production)", "pretty or json"),
    ("RUST_LOG", "info", "log filter"),
    ("SYSTEM_USER_ID", "00000000-0000-0000-0000-000000000000", "sender of system notices"),
    ("STATIC_DIR", "the embedded demo page", "serve the demo page from this directory instead"),
    ("REQUEST_TIMEOUT_MS", "30000", "bound on one HTTP request"),
    ("HEADER_READ_TIMEOUT_MS", "10000", "bound on a client sending its request head"),
    ("METRICS_TOKEN", "-", "bearer token /metrics requires"),
    ("RAZORPAY_KEY_ID", "- (sandbox in development)", "payment gateway key id"),
    ("RAZORPAY_KEY_SECRET", "-", "payment gateway key secret"),
    ("RAZORPAY_WEBHOOK_SECRET", "-", "verifies the gateway's webhooks"),
    ("RAZORPAY_API_BASE", "https://api.razorpay.com", "gateway API base URL"),
    ("RAZORPAY_TIMEOUT_MS", "10000", "gateway call timeout"),
    ("PAYMENT_MERCHANT_NAME", "Parley", "name shown at checkout"),
    ("PLATFORM_COMMISSION_PERCENT", "10", "platform commission"),
    ("MAX_REVISIONS", "3", "revisions a brand owner may request"),
    ("TYPING_TIMEOUT_MS", "8000", "expiry of typing_start"),
    ("SHUTDOWN_GRACE_MS", "10000", "how long SIGTERM waits for in-flight work"),
    ("PRESENCE_TTL_MS", "30000", "with Redis: how soon a dead node's users go offline"),
    ("REDELIVERY_AFTER_MS", "30000", "with Redis: when another node emits an unemitted message"),
    ("RATE_LIMIT_ENABLED", "true", "per-user rate limits"),
    ("RATE_LIMIT_MESSAGES_BURST / _PER_SECOND", "30 / 10", "messages"),
    ("RATE_LIMIT_TYPING_BURST / _PER_SECOND", "20 / 5", "typing events"),
    ("RATE_LIMIT_ACTIONS_BURST / _PER_SECOND", "20 / 5", "flow actions"),
    ("RATE_LIMIT_REST_WRITES_BURST / _PER_SECOND", "60 / 20", "REST writes"),
    ("RATE_LIMIT_CONNECTIONS_BURST / _PER_SECOND", "20 / 2", "socket connections"),
    ("LEGACY_AUTH_EVENT", "false", "let chat:* clients authenticate by event"),
    ("LEGACY_AUTH_TIMEOUT_MS", "10000", "how long such a socket has to authenticate"),
    ("WEBHOOK_URLS", "-", "comma-separated outgoing webhook receivers"),
    ("WEBHOOK_SECRET", "-", "signs webhooks and pre-send calls"),
    ("WEBHOOK_EVENTS", "all", "webhook kinds to send"),
    ("WEBHOOK_TIMEOUT_MS", "5000", "one delivery attempt's limit"),
    ("WEBHOOK_MAX_AGE_MS", "86400000", "when retries stop"),
    ("PRESEND_HOOK_URL", "-", "asked before each user message is stored"),
    ("PRESEND_HOOK_TIMEOUT_MS", "1500", "how long the pre-send hook may take"),
    ("PRESEND_HOOK_FAIL_OPEN", "true", "allow messages when the hook does not answer"),
    ("MESSAGE_TTL_MIN_SECONDS", "3600", "shortest disappearing-message lifetime"),
    ("QUOTA_DAILY_FREE", "0 (off)", "free messages per user and day"),
    ("QUOTA_TIMEZONE", "UTC", "zone whose midnight starts a quota day"),
    ("QUOTA_POINTS_PER_MESSAGE", "10", "cost of a message beyond the free ones"),
    ("QUOTA_CONVERSATION_TYPES", "direct", "conversation types the quota counts"),
    ("OFFER_TTL_MS", "172800000", "how long a price offer waits"),
    ("EDIT_WINDOW_MS", "900000", "how long a message may be edited"),
    ("SOCKETIO_PARSER", "default", "default or msgpack"),
    ("PING_INTERVAL_MS", "25000", "engine.io heartbeat interval"),
    ("PING_TIMEOUT_MS", "20000", "how long a missed heartbeat is waited for"),
    ("CONNECT_TIMEOUT_MS", "45000", "how long a session without a Socket.IO connection is kept"),
    ("MODERATION_BLOCKLIST", "-", "comma-separated words the moderation rules act on"),
    ("MODERATION_BLOCKLIST_ACTION", "flag", "flag or block"),
    ("MASK_CONTACT_DETAILS", "true", "mask phones, emails and UPI ids before payment"),
    ("SPAM_REPEAT_CONVERSATIONS", "5", "same text into this many conversations in 10 min flags the sender"),
    ("SMTP_URL", "-", "offline email: smtp://, smtps:// or smtp+plain://"),
    ("EMAIL_FROM", "-", "the offline email's sender"),
    ("EMAIL_DELAY_MS", "1800000", "how long an unread message waits before its email"),
    ("EMAIL_UNSUBSCRIBE_SECRET", "derived from JWT_SECRET", "signs unsubscribe links"),
    ("APP_URL", "http://127.0.0.1:5000", "the web app emails link to"),
    ("APP_NAME", "Parley", "the name emails sign with"),
    ("FCM_SERVICE_ACCOUNT_JSON", "-", "push through FCM (the JSON or a path)"),
    ("FCM_PROJECT_ID", "the account's", "FCM project"),
    ("FCM_API_BASE", "https://fcm.googleapis.com", "FCM API base URL"),
    ("APNS_KEY_P8", "-", "push through APNs (the .p8 key or a path)"),
    ("APNS_KEY_ID", "-", "APNs key id"),
    ("APNS_TEAM_ID", "-", "APNs team id"),
    ("APNS_TOPIC", "-", "APNs topic (the app's bundle id)"),
    ("APNS_API_BASE", "https://api.push.apple.com", "APNs API base URL"),
    ("PUSH_TIMEOUT_MS", "10000", "one push request's limit"),
    ("PUSH_ATTEMPTS", "4", "push attempts while a service answers 429/5xx"),
    ("PUSH_BACKOFF_MS", "1000", "the first wait between push attempts"),
];

fn env_help() -> String {
    let width = ENV.iter().map(|(name, ..)| name.len()).max().unwrap_or(0);
    let mut out = String::from("Environment (also read from .env in the working directory):\n");
    for (name, default, what) in ENV {
        out.push_str(&format!("  {name:width$}  {what} [default: {default}]\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed_and_defaults_to_serve() {
        <Cli as CommandFactory>::command().debug_assert();
        assert_eq!(Cli::parse_from(["parley"]).command(), Command::Serve);
        assert_eq!(Cli::parse_from(["parley", "migrate"]).command(), Command::Migrate);
        assert!(Cli::try_parse_from(["parley", "nonsense"]).is_err());
    }

    /// A variable the settings read but `--help` does not list fails here.
    #[test]
    fn help_lists_every_variable_the_settings_read() {
        let source = [include_str!("config.rs"), include_str!("config/reach.rs")].concat();
        let listed: Vec<&str> = ENV.iter().map(|(name, ..)| *name).collect();
        for piece in source.split('"').skip(1).step_by(2) {
            let is_name = piece.len() > 3
                && piece != "K"
                && piece.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                && piece.contains('_')
                && !piece.starts_with('_');
            if is_name {
                assert!(listed.iter().any(|l| l.starts_with(piece)), "{piece} is missing from parley --help");
            }
        }
    }
}
