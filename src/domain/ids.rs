//! Typed ids. Conversation and message ids are UUIDv7 (time-ordered), so
//! ordering by id is ordering by creation.

use std::fmt;

use uuid::Uuid;

use crate::error::AppError;

macro_rules! uuid_id {
    ($name:ident, $what:literal) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses a client-supplied id. An id that is not a UUID names
            /// nothing, so it is reported as not found.
            pub fn parse(raw: &str) -> Result<Self, AppError> {
                Uuid::parse_str(raw.trim()).map(Self).map_err(|_| AppError::not_found($what))
            }

            /// Like `parse`, but an absent (empty) id is a missing field,
            /// reported as `VALIDATION_FAILED` naming `field`.
            pub fn required(field: &str, raw: &str) -> Result<Self, AppError> {
                if raw.trim().is_empty() {
                    return Err(AppError::invalid_field(field, "is required"));
                }
                Self::parse(raw)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

uuid_id!(ConversationId, "Conversation");
uuid_id!(MessageId, "Message");
uuid_id!(CampaignId, "Campaign");
uuid_id!(BidId, "Bid");
