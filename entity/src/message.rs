use sea_orm::entity::prelude::*;

/// A stored message. Ids are UUIDv7, so ordering by id is ordering by time.
/// `message_type` is `user_input`, `system`, `automated` or `audit`; an audit
/// message has the actor as both sender and receiver and is visible to them
/// alone. A message whose `expires_at` has passed is no longer visible.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub sender_id: String,
    pub receiver_id: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub media_url: Option<String>,
    pub message_type: String,
    pub action_required: bool,
    pub action_data: Option<Json>,
    pub is_automated: bool,
    pub action_completed: bool,
    pub seen: bool,
    pub seen_at: Option<DateTimeUtc>,
    pub client_message_id: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    /// Stored but not yet known to be emitted: a sweeper emits what a
    /// node that died between commit and emit left behind.
    pub emit_pending: bool,
    pub created_at: DateTimeUtc,
    /// Set by the sender's latest edit.
    pub edited_at: Option<DateTimeUtc>,
    /// Set when deleted: the row stays as a tombstone with an empty text.
    pub deleted_at: Option<DateTimeUtc>,
    /// The message this one quotes (same conversation).
    pub reply_to_id: Option<Uuid>,
    /// The quote as shown, `{id, sender_id, message}`, kept in step with it.
    pub reply_to: Option<Json>,
    /// `[[emoji, [user_id, ...]], ...]` in the order reacted; none when empty.
    pub reactions: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
