use sea_orm::entity::prelude::*;

/// The node sending (or that last sent) the offline email of one (user,
/// conversation): held until `lease_until`, so two nodes never send the same
/// email and a node that dies mid-send frees it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    pub owner: String,
    pub lease_until: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
