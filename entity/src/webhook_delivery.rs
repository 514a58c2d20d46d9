use sea_orm::entity::prelude::*;

/// One event's delivery to one receiver URL, written in the transaction of
/// the change it reports (an outbox). `body` is the exact JSON text every
/// attempt signs and sends; `event_id` (the `X-Parley-Delivery-Id`) is the
/// same for every URL the event goes to. `status` is `pending` (not yet
/// tried), `failed` (tried, to be retried at `next_attempt_at`), `dead`
/// (given up after the maximum age) or `delivered`. A node attempting it
/// holds it until `lease_until`, so one node at a time attempts it and a
/// node that dies mid-attempt loses nothing.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event_id: Uuid,
    #[sea_orm(column_name = "type")]
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub next_attempt_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// The message the event is about, if any (a message that expires
    /// before its webhook is delivered is not delivered).
    pub subject_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
