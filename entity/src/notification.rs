use sea_orm::entity::prelude::*;

/// A stored notification; every `notification` event carries one. A
/// `new_message` notification has a `coalesce_key` while it is unread, so
/// later messages of the same conversation update it instead of adding rows.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: String,
    #[sea_orm(column_name = "type")]
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub data: Json,
    pub conversation_id: Option<Uuid>,
    pub read: bool,
    pub read_at: Option<DateTimeUtc>,
    pub coalesce_key: Option<String>,
    /// How many events a coalesced notification stands for (messages).
    pub count: i32,
    /// The service that created it through the platform API.
    pub source: Option<String>,
    pub idempotency_key: Option<String>,
    /// While unread and waiting for its offline email: when its burst began.
    pub email_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
