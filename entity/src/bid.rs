use sea_orm::entity::prelude::*;

/// A brand owner's open call for proposals, with an optional budget range.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bids")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub brand_owner_id: String,
    pub title: String,
    pub description: Option<String>,
    pub requirements: Option<String>,
    pub min_budget_paise: Option<i64>,
    pub max_budget_paise: Option<i64>,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
