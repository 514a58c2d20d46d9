use sea_orm::entity::prelude::*;

/// An earlier text of a message: what it said before an edit (`kind`
/// `edit`) or before it was deleted (`delete`). Shown to admins only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message_edits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub message_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    /// Who made the change that replaced this text.
    pub editor_id: String,
    pub kind: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
