//! Opening a campaign or bid conversation with its invitation card.

use entity::{conversation, message, notification};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::OnConflict};
use serde_json::{Value, json};

use super::{
    Party, SourceKind, State,
    engine::FlowConfig,
    publish::publishable,
    rules::{self, View},
    write::{Extra, draft_to_row, record_effects},
};
use crate::{
    domain::{
        clock,
        collaborations::{self, Published, Source},
        events::{Outbound, conversation_json},
        ids::ConversationId,
        money::Paise,
        outbox,
        users::Identity,
    },
    error::{AppError, AppResult},
};

pub struct Initialized {
    pub conversation: conversation::Model,
    pub created: bool,
    pub events: Vec<Outbound>,
}

/// Opens the campaign or bid conversation between its owner and an
/// influencer, or returns the one that exists. Bids carry the influencer's
/// proposed amount, pre-filled later in the pricing card.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn initialize(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    who: &Identity,
    source: Source,
    influencer_id: &str,
    proposed_amount: Option<&Value>,
) -> AppResult<Initialized> {
    let target = collaborations::published(db, source).await?;
    if target.brand_owner_id != who.user_id {
        return Err(AppError::forbidden(format!("Only the {}'s owner may open its conversations", source.kind())));
    }
    let proposed = match (source, proposed_amount) {
        (Source::Bid(_), Some(v)) if !v.is_null() => Some(Paise::parse("proposed_amount", v)?),
        (Source::Bid(_), _) => return Err(AppError::invalid_field("proposed_amount", "is required")),
        (Source::Campaign(_), _) => None,
    };
    let now = cfg.clock.now();
    let influencer = collaborations::influencer(db, who, influencer_id, &cfg.system_user_id, now).await?;
    let pair_key = source.pair_key(&influencer);
    if let Some(existing) = find_by_pair(db, &pair_key).await? {
        return Ok(Initialized { conversation: existing, created: false, events: vec![] });
    }
    let application = collaborations::application_of(db, source, &influencer).await?;
    let data = opening_data(source, &target, proposed);
    let now_text = clock::rfc3339(&now);
    let view = View {
        kind: source.kind(),
        state: State::InfluencerResponding,
        data: &data,
        revision_count: 0,
        max_revisions: cfg.max_revisions,
        commission_bps: cfg.commission_bps,
        now: &now_text,
        offer_deadline: None,
    };
    let t = rules::opened(&view);
    let c = conversation::Model {
        id: ConversationId::new().0,
        conversation_type: source.kind().conversation_type().as_str().into(),
        user1_id: who.user_id.clone(),
        user2_id: influencer.clone(),
        pair_key: pair_key.clone(),
        campaign_id: matches!(source, Source::Campaign(_)).then_some(source.id()),
        bid_id: matches!(source, Source::Bid(_)).then_some(source.id()),
        request_id: application.as_ref().map(|r| r.id),
        chat_status: State::InfluencerResponding.chat_status().as_str().into(),
        flow_state: Some(State::InfluencerResponding.as_str().into()),
        awaiting_role: Some(Party::Influencer.as_str().into()),
        flow_data: data,
        current_action_data: t.current_card.clone(),
        revision_count: 0,
        max_revisions: cfg.max_revisions,
        version: 0,
        message_ttl_seconds: None,
        offer_expires_at: None,
        last_message_at: now,
        created_at: now,
        updated_at: now,
        contexts: None,
    };
    let rows: Vec<message::Model> = t.drafts.iter().map(|d| draft_to_row(cfg, &c, d, &who.user_id, now)).collect();
    let Some(notified) = store(db, cfg, &c, &t, &rows, &who.user_id, application.as_ref().map(|r| r.id)).await? else {
        let existing = find_by_pair(db, &pair_key)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("conversation vanished after conflict")))?;
        return Ok(Initialized { conversation: existing, created: false, events: vec![] });
    };
    let events = publishable(db, &c, &t, &rows, &notified, None).await?;
    Ok(Initialized { conversation: c, created: true, events })
}

/// What the flow knows from the start: the source, and its budget or the
/// bid's proposed amount.
fn opening_data(source: Source, target: &Published, proposed: Option<Paise>) -> Value {
    let amount = |p: Paise| json!({ "amount": p.rupees_json(), "amount_paise": p.0 });
    let mut data = json!({
        "source": {
            "type": source.kind().as_str(),
            "id": source.id(),
            "title": target.title,
            "description": target.description,
            "requirements": target.requirements,
        },
    });
    match source.kind() {
        SourceKind::Campaign => data["budget"] = target.budget.map(amount).unwrap_or(Value::Null),
        SourceKind::Bid => data["proposed_amount"] = proposed.map(amount).unwrap_or(Value::Null),
    }
    data
}

/// Stores the conversation with its opening messages and what they cause
/// in one transaction; none when another call opened the same pair first.
async fn store(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    c: &conversation::Model,
    t: &rules::Transition,
    rows: &[message::Model],
    actor: &str,
    application: Option<uuid::Uuid>,
) -> AppResult<Option<Vec<notification::Model>>> {
    let txn = crate::db::begin_write(db).await?;
    let inserted = conversation::Entity::insert(conversation::ActiveModel::from(c.clone()))
        .on_conflict(OnConflict::column(conversation::Column::PairKey).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        txn.rollback().await?;
        return Ok(None);
    }
    message::Entity::insert_many(rows.iter().cloned().map(message::ActiveModel::from))
        .exec_without_returning(&txn)
        .await?;
    crate::domain::messages::count_unread(&txn, rows).await?;
    if let Some(id) = application {
        collaborations::mark_connected(&txn, id, c.created_at).await?;
    }
    let created = outbox::event(&cfg.webhooks, outbox::CONVERSATION_CREATED, &conversation_json(c), c.created_at)?;
    let extra = Extra { notifications: vec![], webhooks: created.into_iter().collect() };
    let notified = record_effects(&txn, cfg, c, c, t, rows, actor, extra).await?;
    txn.commit().await?;
    Ok(Some(notified))
}

async fn find_by_pair(db: &DatabaseConnection, pair_key: &str) -> AppResult<Option<conversation::Model>> {
    Ok(conversation::Entity::find().filter(conversation::Column::PairKey.eq(pair_key)).one(db).await?)
}

/// The campaign or bid a conversation is about (for rooms and context).
pub fn source_of(c: &conversation::Model) -> Option<Source> {
    c.campaign_id.map(Source::Campaign).or(c.bid_id.map(Source::Bid))
}
