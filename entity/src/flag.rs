use sea_orm::entity::prelude::*;

/// A report of a message or a user, by a user or by the automatic rules
/// (`reporter_id` null). `target_type` is `message` or `user`;
/// `target_user_id` is the reported user (a message's sender). `status` is
/// `open` or `resolved`; `open_key` (reporter and target) is set while the
/// flag is open, so each reporter holds one open flag per target.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reporter_id: Option<String>,
    pub target_type: String,
    pub message_id: Option<Uuid>,
    pub target_user_id: String,
    pub conversation_id: Option<Uuid>,
    pub reason: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub status: String,
    #[sea_orm(unique)]
    pub open_key: Option<String>,
    pub resolution: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub resolution_note: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
