use sea_orm::entity::prelude::*;

/// An influencer's application to a campaign or a bid. Exactly one of
/// `campaign_id` and `bid_id` is set; `source_key` (`campaign:<id>:<influencer>`
/// or `bid:<id>:<influencer>`) is unique, so an influencer applies once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub bid_id: Option<Uuid>,
    pub influencer_id: String,
    pub proposed_amount_paise: Option<i64>,
    pub message: Option<String>,
    pub status: String,
    #[sea_orm(unique)]
    pub source_key: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
