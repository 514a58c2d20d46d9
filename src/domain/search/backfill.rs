//! Messages stored before search existed (a database upgraded from an
//! earlier release) have no `search_text`, so nothing finds them. The
//! backfill gives them their words, oldest first, in small batches that
//! never hold the write lock for long; every node may run it at once (a row
//! is only filled while still empty). Messages without words (emoji only)
//! stay empty and are passed over.

use entity::message;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};
use uuid::Uuid;

use super::stored;
use crate::error::AppResult;

/// Messages read per batch.
pub const BATCH: u64 = 500;

/// One batch after the message `after`: the last message it looked at and
/// how many it gave words to; `None` once no message is left without them.
pub async fn batch(db: &DatabaseConnection, after: Option<Uuid>) -> AppResult<Option<(Uuid, u64)>> {
    let mut q = message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .column(message::Column::Message)
        .filter(message::Column::SearchText.is_null())
        .filter(message::Column::DeletedAt.is_null());
    if let Some(after) = after {
        q = q.filter(message::Column::Id.gt(after));
    }
    let rows: Vec<(Uuid, String)> = q.order_by_asc(message::Column::Id).limit(BATCH).into_tuple().all(db).await?;
    let Some(last) = rows.last().map(|(id, _)| *id) else { return Ok(None) };
    let worded: Vec<(Uuid, String)> =
        rows.into_iter().filter_map(|(id, text)| stored(&text).map(|words| (id, words))).collect();
    if worded.is_empty() {
        return Ok(Some((last, 0)));
    }
    let txn = crate::db::begin_write(db).await?;
    let mut filled = 0;
    for (id, words) in worded {
        filled += message::Entity::update_many()
            .col_expr(message::Column::SearchText, Expr::value(words))
            .filter(message::Column::Id.eq(id))
            .filter(message::Column::SearchText.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
    }
    txn.commit().await?;
    Ok(Some((last, filled)))
}
