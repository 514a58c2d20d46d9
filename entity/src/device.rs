use sea_orm::entity::prelude::*;

/// A phone registered for push: `platform` is `fcm` or `apns`. A token
/// belongs to one user at a time (the last to register it).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "devices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token: String,
    pub user_id: String,
    pub platform: String,
    pub created_at: DateTimeUtc,
    /// Last registered; the oldest are dropped past a user's limit.
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
