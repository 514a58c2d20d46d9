//! The collaboration flow of campaign and bid conversations.
//!
//! Campaign and bid conversations ([`SourceKind`]) share the flow;
//! they differ in their opening message and the price pre-filled on the
//! pricing card. [`rules::decide`] is a pure function from (conversation, actor, action,
//! input) to a [`rules::Transition`] or a contract error; [`cards`] renders
//! the card each state shows; [`engine`] runs a transition in one
//! transaction and returns the events to publish after commit.

pub mod cards;
pub mod config;
pub mod engine;
pub mod offers;
pub mod opening;
pub mod publish;
pub mod rules;
pub mod view;
pub mod write;

use crate::domain::names::{ChatStatus, names};
pub use crate::domain::names::{Party, SourceKind};

names! {
    /// Where a flow conversation stands.
    pub enum State {
        InfluencerResponding => "influencer_responding",
        BrandOwnerDetails => "brand_owner_details",
        InfluencerReviewing => "influencer_reviewing",
        BrandOwnerPricing => "brand_owner_pricing",
        InfluencerPriceResponse => "influencer_price_response",
        NegotiationInput => "negotiation_input",
        BrandOwnerNegotiation => "brand_owner_negotiation",
        InfluencerFinalResponse => "influencer_final_response",
        PaymentPending => "payment_pending",
        PaymentCompleted => "payment_completed",
        WorkInProgress => "work_in_progress",
        WorkSubmitted => "work_submitted",
        WorkApproved => "work_approved",
        RealTime => "real_time",
        ChatClosed => "chat_closed",
    }
}

names! {
    /// Everything a participant can do in a flow.
    pub enum Action {
        AcceptConnection => "accept_connection",
        RejectConnection => "reject_connection",
        SendProjectDetails => "send_project_details",
        AcceptProject => "accept_project",
        RejectProject => "reject_project",
        SendPriceOffer => "send_price_offer",
        AcceptPrice => "accept_price",
        NegotiatePrice => "negotiate_price",
        RejectPrice => "reject_price",
        SendCounterOffer => "send_counter_offer",
        AcceptCounterOffer => "accept_counter_offer",
        RejectCounterOffer => "reject_counter_offer",
        MakeFinalOffer => "make_final_offer",
        AcceptFinalOffer => "accept_final_offer",
        RejectFinalOffer => "reject_final_offer",
        ProceedToPayment => "proceed_to_payment",
        StartWork => "start_work",
        SubmitWork => "submit_work",
        ApproveWork => "approve_work",
        RequestRevision => "request_revision",
        CloseChat => "close_chat",
        Cancel => "cancel",
    }
}

impl State {
    /// The role whose move it is.
    pub fn awaiting(self) -> Option<Party> {
        use State::*;
        match self {
            InfluencerResponding
            | InfluencerReviewing
            | InfluencerPriceResponse
            | NegotiationInput
            | InfluencerFinalResponse
            | PaymentCompleted
            | WorkInProgress => Some(Party::Influencer),
            BrandOwnerDetails | BrandOwnerPricing | BrandOwnerNegotiation | PaymentPending | WorkSubmitted => {
                Some(Party::BrandOwner)
            }
            WorkApproved | RealTime | ChatClosed => None,
        }
    }

    /// `automated` until `real_time`, then `real_time`; `closed` at the end.
    pub fn chat_status(self) -> ChatStatus {
        match self {
            State::RealTime => ChatStatus::RealTime,
            State::ChatClosed => ChatStatus::Closed,
            _ => ChatStatus::Automated,
        }
    }

    /// States before payment, where either party may still cancel.
    pub fn before_payment(self) -> bool {
        use State::*;
        matches!(
            self,
            InfluencerResponding
                | BrandOwnerDetails
                | InfluencerReviewing
                | BrandOwnerPricing
                | InfluencerPriceResponse
                | NegotiationInput
                | BrandOwnerNegotiation
                | InfluencerFinalResponse
        )
    }
}
