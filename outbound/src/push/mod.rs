//! Push to offline users' devices (contract section 12): FCM HTTP v1 and
//! APNs behind one [`PushProvider`] trait, so another service (web push) can
//! be added beside them. Which devices, and whether to push at all, is the
//! server's; a [`PushOutcome::Gone`] token is for it to delete.

pub mod apns;
pub mod fcm;
mod key_source;
mod retry;

use std::{collections::BTreeMap, time::Duration};

pub use apns::{Apns, ApnsSettings};
pub use fcm::{Fcm, FcmSettings};
pub use retry::{RetryPolicy, send_with_retry};

/// What a device shows: the notification's title and body, its `type` and
/// conversation for the app to open, and the unread total as the badge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushMessage {
    pub title: String,
    pub body: String,
    /// The notification's `type` (`new_message`, `action_required`, …).
    pub kind: String,
    pub conversation_id: Option<String>,
    pub badge: u32,
    /// More string fields for the app, beside `type` and `conversation_id`.
    pub data: BTreeMap<String, String>,
}

impl PushMessage {
    /// `type`, `conversation_id` (when there is one) and `data`, as strings.
    pub(crate) fn fields(&self) -> BTreeMap<String, String> {
        let mut fields = self.data.clone();
        fields.insert("type".into(), self.kind.clone());
        if let Some(id) = &self.conversation_id {
            fields.insert("conversation_id".into(), id.clone());
        }
        fields
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    Delivered,
    /// The service says the token is dead (FCM `UNREGISTERED`, APNs 410):
    /// delete the device.
    Gone,
    /// Throttled (429) or a server error (5xx): try again, after `after` when
    /// the service said (`Retry-After`).
    Retry {
        after: Option<Duration>,
    },
    /// Refused for good, or misconfigured; `why` is a short text for the log.
    Failed {
        why: String,
    },
}

/// What one request's answer means to the provider that made it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Outcome(PushOutcome),
    /// The service refused the credential (expired or revoked): renew it and ask again.
    RenewCredential,
}

/// Makes `attempt`, and once more when the service asks for a renewed
/// credential; a second such answer is [`PushOutcome::Failed`] with `gave_up`.
pub(crate) async fn renewing_once<F>(mut attempt: impl FnMut() -> F, gave_up: &str) -> PushOutcome
where
    F: Future<Output = Result<Answer, PushOutcome>>,
{
    for _ in 0..2 {
        match attempt().await {
            Ok(Answer::RenewCredential) => continue,
            Ok(Answer::Outcome(outcome)) | Err(outcome) => return outcome,
        }
    }
    PushOutcome::Failed { why: gave_up.to_owned() }
}

#[async_trait::async_trait]
pub trait PushProvider: Send + Sync {
    /// The `platform` devices register with: `fcm`, `apns`.
    fn platform(&self) -> &'static str;

    /// One attempt to one device.
    async fn send(&self, device_token: &str, message: &PushMessage) -> PushOutcome;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_carry_type_and_conversation_beside_the_extras() {
        let message = PushMessage {
            kind: "new_message".into(),
            conversation_id: Some("c1".into()),
            data: BTreeMap::from([("message_id".into(), "m1".into()), ("type".into(), "ignored".into())]),
            ..PushMessage::default()
        };
        let fields = message.fields();
        assert_eq!(fields["type"], "new_message");
        assert_eq!(fields["conversation_id"], "c1");
        assert_eq!(fields["message_id"], "m1");
        let without = PushMessage { kind: "system".into(), ..PushMessage::default() }.fields();
        assert!(!without.contains_key("conversation_id"));
    }
}
