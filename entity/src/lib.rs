//! SeaORM entities of Parley's tables. Column meanings live with each model;
//! the rules that keep them consistent live in the server's `domain` module.

pub mod admin_audit;
pub mod bid;
pub mod campaign;
pub mod conversation;
pub mod conversation_context;
pub mod device;
pub mod email_claim;
pub mod flag;
pub mod message;
pub mod message_edit;
pub mod notification;
pub mod payment_order;
pub mod quota_usage;
pub mod request;
pub mod unread_count;
pub mod user;
pub mod user_ban;
pub mod user_preference;
pub mod wallet;
pub mod wallet_credit;
pub mod webhook_delivery;
pub mod webhook_event;

pub mod prelude {
    pub use super::bid::Entity as Bid;
    pub use super::campaign::Entity as Campaign;
    pub use super::conversation::Entity as Conversation;
    pub use super::message::Entity as Message;
    pub use super::notification::Entity as Notification;
    pub use super::payment_order::Entity as PaymentOrder;
    pub use super::request::Entity as Request;
    pub use super::unread_count::Entity as UnreadCount;
    pub use super::user::Entity as User;
    pub use super::webhook_delivery::Entity as WebhookDelivery;
    pub use super::webhook_event::Entity as WebhookEvent;
}
