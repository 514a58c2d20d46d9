//! Applications (requests) influencers send to campaigns and bids: applying,
//! the owner's list, and the application a conversation opens from.

use chrono::{DateTime, Utc};
use entity::request;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Source, published, request_json};
use crate::domain::{
    events::Outbound,
    money::Paise,
    notifications,
    pagination::Page,
    users::{self, Identity, Role},
    validate,
};
use crate::error::{AppError, AppResult};

pub struct Application {
    pub request: request::Model,
    pub created: bool,
    pub events: Vec<Outbound>,
}

/// An influencer applies to a campaign or bid; applying twice returns the
/// first application.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn apply(
    db: &sea_orm::DatabaseConnection,
    who: &Identity,
    source: Source,
    proposed_amount: Option<&Value>,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    if who.role != Role::Influencer {
        return Err(AppError::forbidden("Only influencers may apply"));
    }
    let target = published(db, source).await?;
    let proposed = match proposed_amount {
        None | Some(Value::Null) => None,
        Some(v) => Some(Paise::parse("proposed_amount", v)?),
    };
    let message = validate::optional_text("message", message, 5000)?;
    let key = source.pair_key(&who.user_id);
    let row = request::Model {
        id: Uuid::now_v7(),
        campaign_id: matches!(source, Source::Campaign(_)).then_some(source.id()),
        bid_id: matches!(source, Source::Bid(_)).then_some(source.id()),
        influencer_id: who.user_id.clone(),
        proposed_amount_paise: proposed.map(|p| p.0),
        message,
        status: "pending".into(),
        source_key: key.clone(),
        created_at: now,
        updated_at: now,
    };
    let id_key = format!("{}_id", source.kind().as_str());
    let mut payload = json!({
        "influencer_id": who.user_id,
        "request_id": row.id,
        "proposed_amount": proposed.map(|p| p.rupees_json()),
    });
    payload[&id_key] = json!(source.id());
    let txn = crate::db::begin_write(db).await?;
    let inserted = request::Entity::insert(request::ActiveModel::from(row.clone()))
        .on_conflict(OnConflict::column(request::Column::SourceKey).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        txn.rollback().await?;
        let existing = request::Entity::find()
            .filter(request::Column::SourceKey.eq(key))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("application vanished after conflict")))?;
        return Ok(Application { request: existing, created: false, events: vec![] });
    }
    let applicant = who.name.clone().unwrap_or_else(|| who.user_id.clone());
    let draft = notifications::Draft::new(
        &target.brand_owner_id,
        notifications::NEW_APPLICATION,
        "New application",
        &format!("{applicant} applied to “{}”", target.title),
        payload.clone(),
    );
    let notified = notifications::store(&txn, vec![draft], now).await?;
    txn.commit().await?;
    let mut events = vec![Outbound::new("new_application", vec![source.room()], payload)];
    events.extend(notified.iter().map(notifications::event));
    Ok(Application { request: row, created: true, events })
}

/// Applications to a campaign or bid, for its owner and admins.
pub async fn requests(
    db: &impl ConnectionTrait,
    who: &Identity,
    source: Source,
    page: Page,
) -> AppResult<(Vec<Value>, u64)> {
    let target = published(db, source).await?;
    if target.brand_owner_id != who.user_id && !who.is_admin() {
        return Err(AppError::forbidden("Only the owner may list applications"));
    }
    let filter = match source {
        Source::Campaign(id) => request::Column::CampaignId.eq(id),
        Source::Bid(id) => request::Column::BidId.eq(id),
    };
    let query = request::Entity::find().filter(filter);
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(request::Column::CreatedAt)
        .order_by_asc(request::Column::Id)
        .offset(page.offset())
        .limit(page.limit)
        .all(db)
        .await?;
    let names: std::collections::HashMap<String, Option<String>> =
        users::find_many(db, rows.iter().map(|r| r.influencer_id.clone()).collect())
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect();
    let items = rows
        .iter()
        .map(|r| {
            let mut item = request_json(r);
            item["influencer"] =
                json!({ "id": r.influencer_id, "name": names.get(&r.influencer_id).cloned().flatten() });
            item
        })
        .collect();
    Ok((items, total))
}

/// The application an influencer sent to a source, if any.
pub async fn application_of(
    db: &impl ConnectionTrait,
    source: Source,
    influencer_id: &str,
) -> AppResult<Option<request::Model>> {
    Ok(request::Entity::find().filter(request::Column::SourceKey.eq(source.pair_key(influencer_id))).one(db).await?)
}

/// Marks an application as connected to its conversation.
pub async fn mark_connected(db: &impl ConnectionTrait, request_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    request::Entity::update_many()
        .set(request::ActiveModel { status: Set("connected".into()), updated_at: Set(now), ..Default::default() })
        .filter(request::Column::Id.eq(request_id))
        .exec(db)
        .await?;
    Ok(())
}
