//! The closed sets of names the contract uses on the wire and the database
//! stores as text: one enum each, so no code compares raw strings.

/// Declares an enum whose variants are written as the given names.
macro_rules! names {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == other.as_str()
            }
        }
    };
}
pub(crate) use names;

names! {
    /// What a conversation is between: any two users, or a brand owner and
    /// an influencer over a campaign or a bid.
    pub enum ConversationType {
        Direct => "direct",
        Campaign => "campaign",
        Bid => "bid",
    }
}

names! {
    /// Whether free text is allowed: `automated` while a flow runs.
    pub enum ChatStatus {
        Automated => "automated",
        RealTime => "real_time",
        Closed => "closed",
    }
}

names! {
    pub enum MessageType {
        UserInput => "user_input",
        System => "system",
        Automated => "automated",
        Audit => "audit",
    }
}

names! {
    /// The two parties of a campaign or bid conversation (`awaiting_role`).
    pub enum Party {
        BrandOwner => "brand_owner",
        Influencer => "influencer",
    }
}

names! {
    /// Where a gateway order stands.
    pub enum PaymentStatus {
        /// Reserved while the gateway creates it.
        Creating => "creating",
        Created => "created",
        Paid => "paid",
        Failed => "failed",
    }
}

impl Party {
    pub fn other(self) -> Party {
        match self {
            Party::BrandOwner => Party::Influencer,
            Party::Influencer => Party::BrandOwner,
        }
    }

    /// How the parties are named in cards and errors.
    pub fn label(self) -> &'static str {
        match self {
            Party::BrandOwner => "the brand",
            Party::Influencer => "the creator",
        }
    }
}

names! {
    /// What a flow conversation is about: a campaign or a bid.
    pub enum SourceKind {
        Campaign => "campaign",
        Bid => "bid",
    }
}

impl SourceKind {
    pub fn conversation_type(self) -> ConversationType {
        match self {
            SourceKind::Campaign => ConversationType::Campaign,
            SourceKind::Bid => ConversationType::Bid,
        }
    }
}

/// The kinds of event a platform can receive by webhook (contract section 11).
pub mod webhook_kinds {
    pub const MESSAGE_NEW: &str = "message.new";
    pub const MESSAGE_UPDATED: &str = "message.updated";
    pub const MESSAGE_DELETED: &str = "message.deleted";
    pub const MESSAGE_READ: &str = "message.read";
    pub const REACTION_ADDED: &str = "reaction.added";
    pub const REACTION_REMOVED: &str = "reaction.removed";
    pub const CONVERSATION_CREATED: &str = "conversation.created";
    pub const CONVERSATION_STATE_CHANGED: &str = "conversation.state_changed";
    pub const PAYMENT_COMPLETED: &str = "payment.completed";
    pub const PAYMENT_FAILED: &str = "payment.failed";
    pub const MESSAGE_FLAGGED: &str = "message.flagged";
    pub const USER_BANNED: &str = "user.banned";

    /// Every kind a platform can receive.
    pub const ALL: [&str; 12] = [
        MESSAGE_NEW,
        MESSAGE_UPDATED,
        MESSAGE_DELETED,
        MESSAGE_READ,
        REACTION_ADDED,
        REACTION_REMOVED,
        CONVERSATION_CREATED,
        CONVERSATION_STATE_CHANGED,
        PAYMENT_COMPLETED,
        PAYMENT_FAILED,
        MESSAGE_FLAGGED,
        USER_BANNED,
    ];
}
