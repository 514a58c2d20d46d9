use sea_orm::entity::prelude::*;

/// A conversation between two users.
///
/// In campaign and bid conversations `user1_id` is the brand owner and
/// `user2_id` the influencer. `pair_key` is unique and encodes the rule that
/// makes a conversation one of a kind: `direct:<a>|<b>` (ids sorted),
/// `campaign:<id>:<influencer>` or `bid:<id>:<influencer>`.
/// `version` grows by one on every flow transition; a transition updates the
/// row only where the version it read is still current.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_type: String,
    pub user1_id: String,
    pub user2_id: String,
    #[sea_orm(unique)]
    pub pair_key: String,
    pub campaign_id: Option<Uuid>,
    pub bid_id: Option<Uuid>,
    pub request_id: Option<Uuid>,
    pub chat_status: String,
    pub flow_state: Option<String>,
    pub awaiting_role: Option<String>,
    pub flow_data: Json,
    pub current_action_data: Option<Json>,
    pub revision_count: i32,
    pub max_revisions: i32,
    pub version: i64,
    /// Default lifetime of users' messages, when disappearing messages are on.
    pub message_ttl_seconds: Option<i64>,
    /// When the price offer the flow waits on expires (only while it waits on one).
    pub offer_expires_at: Option<DateTimeUtc>,
    pub last_message_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// What a direct conversation is about, oldest first: `[{type, id, title?, url?}]`.
    pub contexts: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
