//! What the flow needs from the settings, and who plays which part in a
//! conversation: read by the engine and by what it writes and publishes.

use entity::conversation;

use super::Party;
use crate::{
    config::Settings,
    domain::{clock::Clock, moderation, outbox::Webhooks},
};

/// What the flow needs from the settings, and the clock it runs on.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Whether written messages wait for an emit confirmation (several nodes).
    pub track_emits: bool,
    pub commission_bps: u32,
    pub max_revisions: i32,
    pub system_user_id: String,
    pub clock: Clock,
    pub webhooks: Webhooks,
    /// How long an offer waits for its answer.
    pub offer_ttl: chrono::Duration,
    /// The automatic rules every text typed into a card passes.
    pub moderation: moderation::Rules,
}

impl FlowConfig {
    pub fn new(s: &Settings, clock: Clock, webhooks: Webhooks) -> Self {
        Self {
            track_emits: s.redis_url.is_some(),
            commission_bps: s.commission_bps,
            max_revisions: s.max_revisions,
            system_user_id: s.system_user_id.clone(),
            clock,
            webhooks,
            offer_ttl: chrono::Duration::from_std(s.time_rules.offer_ttl).unwrap_or(chrono::Duration::days(2)),
            moderation: moderation::Rules::new(&s.moderation),
        }
    }

    /// When an offer made at `now` expires.
    pub fn offer_deadline(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        now + self.offer_ttl
    }
}

pub(super) fn user_of(c: &conversation::Model, party: Party) -> &str {
    match party {
        Party::BrandOwner => &c.user1_id,
        Party::Influencer => &c.user2_id,
    }
}
