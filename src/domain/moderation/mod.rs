//! Moderation: the automatic rules every user text passes when it is
//! stored (blocklist, contact masking, repetition), flags (reports and the
//! rules' findings), bans, the admin audit log and the analytics.

pub mod analytics;
pub mod audit;
pub mod bans;
pub mod blocklist;
pub mod flags;
pub mod masking;
mod repeats;

use std::sync::Arc;

use serde_json::{Value, json};

pub use self::{blocklist::Blocklist, masking::Contact, repeats::Repeats};
use crate::{
    config::ModerationSettings,
    error::{AppError, ErrorCode},
};

/// The rules as configured. Cloning shares them.
#[derive(Clone)]
pub struct Rules(Arc<Inner>);

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules").field("blocks", &self.0.blocks).field("mask_contacts", &self.0.mask_contacts).finish()
    }
}

struct Inner {
    blocklist: Blocklist,
    blocks: bool,
    mask_contacts: bool,
    repeats: Repeats,
}

/// A text after the rules: what is stored, and what was done to it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Screened {
    pub text: String,
    /// The text as sent, when masking changed it.
    pub original: Option<String>,
    pub masked: Vec<Contact>,
    /// The blocklist entry it contains, when the list flags rather than blocks.
    pub blocklisted: Option<String>,
}

impl Screened {
    /// The message's `moderation` field, when masking changed it.
    pub fn moderation(&self) -> Option<Value> {
        (!self.masked.is_empty())
            .then(|| json!({ "masked": self.masked.iter().map(|c| c.as_str()).collect::<Vec<_>>() }))
    }
}

impl Rules {
    pub fn new(s: &ModerationSettings) -> Self {
        Self(Arc::new(Inner {
            blocklist: Blocklist::new(&s.blocklist),
            blocks: s.blocklist_blocks,
            mask_contacts: s.mask_contact_details,
            repeats: Repeats::new(s.spam_repeat_conversations),
        }))
    }

    /// Runs the blocklist, then masking where `before_payment` (a direct
    /// conversation, or a flow before `payment_completed`). A blocklisted
    /// text is refused with `MESSAGE_REJECTED` when the list blocks.
    pub fn screen(&self, text: &str, before_payment: bool) -> Result<Screened, AppError> {
        let blocklisted = self.0.blocklist.find(text);
        if blocklisted.is_some() && self.0.blocks {
            return Err(AppError::new(ErrorCode::MessageRejected, "This message contains words that are not allowed")
                .with_details(json!({ "reason": "blocklist" })));
        }
        let mut out = Screened { text: text.to_string(), blocklisted, ..Screened::default() };
        if self.0.mask_contacts && before_payment {
            let m = masking::mask(text);
            if !m.found.is_empty() {
                out.original = Some(std::mem::replace(&mut out.text, m.text));
                out.masked = m.found;
            }
        }
        Ok(out)
    }

    /// Where repeated texts are counted.
    pub fn repeats(&self) -> &Repeats {
        &self.0.repeats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(blocks: bool) -> Rules {
        Rules::new(&ModerationSettings {
            blocklist: vec!["scam".into()],
            blocklist_blocks: blocks,
            mask_contact_details: true,
            spam_repeat_conversations: 5,
        })
    }

    #[test]
    fn masking_applies_before_payment_only() {
        let r = rules(false);
        let before = r.screen("call 9876543210", true).unwrap();
        assert_eq!(before.text, "call •••");
        assert_eq!(before.original.as_deref(), Some("call 9876543210"));
        assert_eq!(before.moderation(), Some(json!({ "masked": ["phone"] })));
        let after = r.screen("call 9876543210", false).unwrap();
        assert_eq!(after.text, "call 9876543210");
        assert_eq!(after.moderation(), None);
    }

    #[test]
    fn the_blocklist_flags_or_blocks() {
        assert_eq!(rules(false).screen("a SCAM", true).unwrap().blocklisted.as_deref(), Some("scam"));
        let err = rules(true).screen("a SCAM", true).unwrap_err();
        assert_eq!(err.code, ErrorCode::MessageRejected);
        assert_eq!(err.details, Some(json!({ "reason": "blocklist" })));
        assert!(rules(true).screen("scampi", true).is_ok());
    }
}
