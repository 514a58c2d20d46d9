//! Offers that wait too long for their answer: finding them, and expiring
//! one through the flow rules like any other transition.

use entity::conversation;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use super::{
    engine::{Acted, FlowConfig, Times, view},
    rules,
    write::{Extra, WriteError, write},
};
use crate::error::AppResult;

/// Conversations whose offer has waited too long, oldest first.
pub async fn expired_offers(
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
    limit: u64,
) -> AppResult<Vec<conversation::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(conversation::Entity::find()
        .filter(conversation::Column::OfferExpiresAt.lte(now))
        .order_by_asc(conversation::Column::OfferExpiresAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// When the next offer expires, if one waits.
pub async fn next_offer_deadline(db: &DatabaseConnection) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(conversation::Entity::find()
        .select_only()
        .column(conversation::Column::OfferExpiresAt)
        .filter(conversation::Column::OfferExpiresAt.is_not_null())
        .order_by_asc(conversation::Column::OfferExpiresAt)
        .into_tuple::<Option<chrono::DateTime<chrono::Utc>>>()
        .one(db)
        .await?
        .flatten())
}

/// Expires the offer a conversation waits on, at the version read: a
/// party's action that got there first wins, and then nothing happens here
/// (none). Several nodes may try; one transition is written.
pub async fn expire_offer(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    c: conversation::Model,
) -> AppResult<Option<Acted>> {
    let times = Times::at(cfg, cfg.clock.now());
    let t = match view(&c, cfg, &times).and_then(|v| rules::offer_expired(&v)) {
        Ok(t) => t,
        Err(_) => {
            // Nothing waits on an offer any more: the deadline is stale.
            conversation::Entity::update_many()
                .set(conversation::ActiveModel { offer_expires_at: Set(None), ..Default::default() })
                .filter(conversation::Column::Id.eq(c.id))
                .filter(conversation::Column::Version.eq(c.version))
                .exec(db)
                .await?;
            return Ok(None);
        }
    };
    let txn = crate::db::begin_write(db).await?;
    let done = match write(&txn, cfg, &c, &t, &cfg.system_user_id, Extra::default()).await {
        Ok(done) => {
            txn.commit().await?;
            done
        }
        Err(WriteError::Stale) => {
            txn.rollback().await?;
            return Ok(None);
        }
        Err(WriteError::Other(e)) => return Err(e),
    };
    let events = super::publish::publishable(db, &done.conversation, &t, &done.messages, &done.notified, None).await?;
    Ok(Some(Acted { conversation: done.conversation, messages: done.messages, events }))
}
