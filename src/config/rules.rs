//! Settings of the rules Parley applies on its own: the time rules
//! (contract section 14), automatic moderation (section 13), and the
//! outgoing webhooks and pre-send hook (section 11), each read and checked
//! from the environment, naming the variable of a bad value.

use std::time::Duration;

use super::{ConfigError, Secret, http_url, list, parse};

/// Outgoing webhooks and the pre-send hook (both signed with `WEBHOOK_SECRET`).
#[derive(Clone, Debug, Default)]
pub struct WebhookSettings {
    pub urls: Vec<String>,
    pub secret: Option<Secret>,
    /// The kinds to send (`WEBHOOK_EVENTS`); all when unset.
    pub events: Option<Vec<String>>,
    pub timeout: Duration,
    pub max_age: Duration,
    pub presend_url: Option<String>,
    pub presend_timeout: Duration,
    pub presend_fail_open: bool,
}

/// Rules that run on the clock (contract section 14).
#[derive(Clone, Debug)]
pub struct TimeRules {
    /// The shortest lifetime a disappearing message may have.
    pub message_ttl_min: Duration,
    /// Free `user_input` messages per user and day; 0 turns the quota off.
    pub quota_daily_free: u32,
    pub quota_timezone: chrono_tz::Tz,
    pub quota_points_per_message: i64,
    /// Conversation types the quota applies to.
    pub quota_conversation_types: Vec<String>,
    /// How long an offer waits for its answer.
    pub offer_ttl: Duration,
    /// How long after sending a message its sender may edit it; zero: always.
    pub edit_window: Duration,
}

/// Automatic moderation rules (contract section 13).
#[derive(Clone, Debug)]
pub struct ModerationSettings {
    /// Words and phrases matched as whole words, case-insensitively.
    pub blocklist: Vec<String>,
    /// `true`: a blocklisted message is refused; `false`: stored and flagged.
    pub blocklist_blocks: bool,
    /// Mask phone numbers, emails and UPI ids before payment.
    pub mask_contact_details: bool,
    /// The same text into this many conversations within ten minutes flags the sender.
    pub spam_repeat_conversations: usize,
}

pub(super) fn time_rules(var: &impl Fn(&str) -> Option<String>) -> Result<TimeRules, ConfigError> {
    let zone = var("QUOTA_TIMEZONE").unwrap_or_else(|| "UTC".into());
    let quota_timezone = zone.parse::<chrono_tz::Tz>().map_err(|_| ConfigError::Invalid {
        name: "QUOTA_TIMEZONE".into(),
        why: format!("{zone:?} is not an IANA time zone name (for example Asia/Kolkata)"),
    })?;
    let types = list(Some(var("QUOTA_CONVERSATION_TYPES").unwrap_or_else(|| "direct".into())));
    if let Some(bad) = types.iter().find(|t| !["direct", "campaign", "bid"].contains(&t.as_str())) {
        return Err(ConfigError::Invalid {
            name: "QUOTA_CONVERSATION_TYPES".into(),
            why: format!("{bad:?} is not a conversation type (direct, campaign, bid)"),
        });
    }
    let cost: i64 = parse(var, "QUOTA_POINTS_PER_MESSAGE", "10")?;
    if cost < 0 {
        return Err(ConfigError::Invalid {
            name: "QUOTA_POINTS_PER_MESSAGE".into(),
            why: "must not be negative".into(),
        });
    }
    let min: u64 = parse(var, "MESSAGE_TTL_MIN_SECONDS", "3600")?;
    if min == 0 || min > crate::domain::clock::MAX_TTL_SECONDS as u64 {
        return Err(ConfigError::Invalid {
            name: "MESSAGE_TTL_MIN_SECONDS".into(),
            why: format!("must be 1..{}", crate::domain::clock::MAX_TTL_SECONDS),
        });
    }
    Ok(TimeRules {
        message_ttl_min: Duration::from_secs(min),
        quota_daily_free: parse(var, "QUOTA_DAILY_FREE", "0")?,
        quota_timezone,
        quota_points_per_message: cost,
        quota_conversation_types: types,
        offer_ttl: Duration::from_millis(parse(var, "OFFER_TTL_MS", "172800000")?),
        edit_window: Duration::from_millis(parse(var, "EDIT_WINDOW_MS", "900000")?),
    })
}

pub(super) fn moderation(var: &impl Fn(&str) -> Option<String>) -> Result<ModerationSettings, ConfigError> {
    let action = var("MODERATION_BLOCKLIST_ACTION").unwrap_or_else(|| "flag".into());
    let blocklist_blocks = match action.trim() {
        "flag" => false,
        "block" => true,
        other => {
            return Err(ConfigError::Invalid {
                name: "MODERATION_BLOCKLIST_ACTION".into(),
                why: format!("{other:?} is neither flag nor block"),
            });
        }
    };
    Ok(ModerationSettings {
        blocklist: list(var("MODERATION_BLOCKLIST")),
        blocklist_blocks,
        mask_contact_details: parse(var, "MASK_CONTACT_DETAILS", "true")?,
        spam_repeat_conversations: parse::<usize>(var, "SPAM_REPEAT_CONVERSATIONS", "5")?.max(2),
    })
}

pub(super) fn webhook_settings(var: &impl Fn(&str) -> Option<String>) -> Result<WebhookSettings, ConfigError> {
    let urls = list(var("WEBHOOK_URLS"));
    for url in &urls {
        http_url("WEBHOOK_URLS", url)?;
    }
    let presend_url = var("PRESEND_HOOK_URL");
    if let Some(url) = &presend_url {
        http_url("PRESEND_HOOK_URL", url)?;
    }
    let secret = var("WEBHOOK_SECRET").map(Secret::new);
    if secret.is_none() && (!urls.is_empty() || presend_url.is_some()) {
        return Err(ConfigError::Invalid {
            name: "WEBHOOK_SECRET".into(),
            why: "is required with WEBHOOK_URLS or PRESEND_HOOK_URL: receivers check the signature made with it".into(),
        });
    }
    let events = var("WEBHOOK_EVENTS").map(|v| list(Some(v)));
    if let Some(unknown) =
        events.iter().flatten().find(|e| !crate::domain::names::webhook_kinds::ALL.contains(&e.as_str()))
    {
        return Err(ConfigError::Invalid {
            name: "WEBHOOK_EVENTS".into(),
            why: format!(
                "{unknown:?} is not a webhook kind (known: {})",
                crate::domain::names::webhook_kinds::ALL.join(", ")
            ),
        });
    }
    Ok(WebhookSettings {
        urls,
        secret,
        events,
        timeout: Duration::from_millis(parse(var, "WEBHOOK_TIMEOUT_MS", "5000")?),
        max_age: Duration::from_millis(parse(var, "WEBHOOK_MAX_AGE_MS", "86400000")?),
        presend_url,
        presend_timeout: Duration::from_millis(parse(var, "PRESEND_HOOK_TIMEOUT_MS", "1500")?),
        presend_fail_open: parse(var, "PRESEND_HOOK_FAIL_OPEN", "true")?,
    })
}
