use sea_orm::entity::prelude::*;

/// A listing, booking or anything else a direct conversation is about; one
/// row per context a conversation has carried (its `contexts` column holds
/// them in full, for display). Lists filter on these rows.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_contexts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub context_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub context_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
