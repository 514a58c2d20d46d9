//! A flow conversation as the rules and the cards both read it: its state,
//! its flow data and the messages a step writes. Below both, so the cards
//! never call back into the rules.

use serde_json::Value;

use super::{Party, SourceKind, State};
use crate::domain::money::Paise;

/// A flow conversation as the rules see it.
#[derive(Clone, Debug)]
pub struct View<'a> {
    pub kind: SourceKind,
    pub state: State,
    pub data: &'a Value,
    pub revision_count: i32,
    pub max_revisions: i32,
    pub commission_bps: u32,
    /// RFC 3339 time of the action, written into flow data.
    pub now: &'a str,
    /// When an offer made now would expire (shown on the cards that answer one).
    pub offer_deadline: Option<&'a str>,
}

/// Who a message is written for.
#[derive(Clone, Debug, PartialEq)]
pub enum Draft {
    /// Confirms the action to its actor alone.
    Audit { text: String },
    /// A card (or note) from the actor to `to`.
    Card { to: Party, text: String, action_data: Option<Value> },
    /// A notice from no one (the system user) to `to`, visible to both.
    Notice { to: Party, text: String, action_data: Option<Value> },
}

/// The offer a state waits on an answer to, by its flow-data key.
pub fn pending_offer(state: State) -> Option<&'static str> {
    match state {
        State::InfluencerPriceResponse => Some("price_offer"),
        State::BrandOwnerNegotiation => Some("counter_offer"),
        State::InfluencerFinalResponse => Some("final_offer"),
        _ => None,
    }
}

/// The price in an offer stored in flow data.
pub fn stored_price(data: &Value, key: &str) -> Option<Paise> {
    data.get(key)?.get("amount_paise")?.as_i64().map(Paise)
}
