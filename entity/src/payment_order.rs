use sea_orm::entity::prelude::*;

/// A payment gateway order for a conversation's agreed price.
/// `status` is `created`, `failed` (the last attempt failed; the order may
/// still be paid) or `paid`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    #[sea_orm(unique)]
    pub gateway_order_id: String,
    pub amount_paise: i64,
    pub currency: String,
    pub status: String,
    pub payment_id: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
