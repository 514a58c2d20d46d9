use sea_orm::entity::prelude::*;

/// A user's own state in a conversation. `count`: how many messages
/// addressed to `user_id` are unseen, raised in the transaction that stores
/// them, set again on read receipts. `archived` and `muted_until` are the
/// user's settings; a new message to the user clears `archived`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unread_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    pub count: i64,
    pub archived: bool,
    /// Muted until then; [`forever`] when muted until unmuted.
    pub muted_until: Option<DateTimeUtc>,
}

/// The `muted_until` of a conversation muted until unmuted (shown as
/// `"forever"`): a time, so "muted now" is one comparison for every row.
pub fn forever() -> DateTimeUtc {
    chrono::DateTime::from_timestamp(253_402_300_799, 0).unwrap_or_default()
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
