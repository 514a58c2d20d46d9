//! Writing one batch: on PostgreSQL, the messages of remembered
//! conversations by one statement (`pg`), the others (and any whose
//! conversation changed since) by a transaction; elsewhere all by a
//! transaction. Either way the messages, unread counts, notifications and
//! webhook events of a batch commit together.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{conversation, message, notification};
use sea_orm::{ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::rows::{charge, existing, insert, repeated, stored_ids, touch};
use super::{Fresh, Known, Pending, Setup, Stored, Unread, Written, pg, sqlite};
use crate::{
    domain::{
        conversations::ensure_chat_open,
        messages::{Unarchived, UnreadOf, count_unread, unread_of},
        notifications, outbox, quota,
        settings::Settings,
    },
    error::{AppError, AppResult},
};

/// Notifications by (user, coalescing key): what a stored draft became.
type Notified = HashMap<(String, String), notification::Model>;

fn notification_of(p: &Pending, notified: &Notified) -> Option<notification::Model> {
    let d = p.effects.notification.as_ref()?;
    notified.get(&(d.user_id.clone(), d.coalesce_key()?)).cloned()
}

fn fresh(p: &Pending, unread: Unread, notified: &Notified, quota: Option<quota::State>) -> Written {
    Written::New(Box::new(Fresh { message: p.row.clone(), unread, notification: notification_of(p, notified), quota }))
}

fn keyed(rows: Vec<notification::Model>) -> Notified {
    rows.into_iter().filter_map(|n| Some(((n.user_id.clone(), n.coalesce_key.clone()?), n))).collect()
}

pub async fn write(
    db: &DatabaseConnection,
    jobs: &[Pending<'_>],
    known: &mut Known,
    ctx: &Setup,
) -> AppResult<Vec<Stored>> {
    let mut out = if db.get_database_backend() == DbBackend::Postgres {
        write_fast(db, jobs, known, ctx).await?
    } else {
        write_script(db, jobs, known, ctx).await?
    };
    unarchived_once(&mut out);
    Ok(out)
}

/// Several messages of a batch may bring one conversation back from one
/// receiver's archive: only the first says so.
fn unarchived_once(out: &mut [Stored]) {
    let mut told = HashSet::new();
    for written in out.iter_mut().flatten() {
        if let (Written::New(fresh), _) = written
            && fresh.unarchived_pair().is_some_and(|pair| !told.insert(pair))
        {
            fresh.unread.unarchived = None;
        }
    }
}

/// PostgreSQL: one statement for the messages of conversations the writer
/// remembers, a transaction for the rest.
async fn write_fast(
    db: &DatabaseConnection,
    jobs: &[Pending<'_>],
    known: &mut Known,
    ctx: &Setup,
) -> AppResult<Vec<Stored>> {
    let now = ctx.clock.now();
    let (fast, mut slow) = split(jobs, known, |_| true);
    let mut out: Vec<Option<Stored>> = (0..jobs.len()).map(|_| None).collect();
    if !fast.is_empty() {
        let fast_jobs: Vec<&Pending> = fast.iter().map(|&i| &jobs[i]).collect();
        let conversations = remembered(&fast_jobs, known);
        let done = pg::write(db, &fast_jobs, &conversations, now, &ctx.webhooks).await?;
        let open: HashMap<Uuid, conversation::Model> = conversations
            .iter()
            .filter(|c| done.touched.contains(&c.id))
            .map(|c| (c.id, conversation::Model { last_message_at: now, ..(*c).clone() }))
            .collect();
        // A conversation closed or changed since it was remembered: forget
        // it and write its messages the long way, which reads it again.
        let gone: Vec<Uuid> = conversations.iter().map(|c| c.id).filter(|id| !open.contains_key(id)).collect();
        for id in gone {
            known.0.remove(&id);
        }
        let (candidates, changed): (Vec<usize>, Vec<usize>) =
            fast.into_iter().partition(|&i| open.contains_key(&jobs[i].row.conversation_id));
        slow.extend(changed);
        let inserted: HashSet<Uuid> = if done.stored == candidates.len() {
            candidates.iter().map(|&i| jobs[i].row.id).collect()
        } else {
            stored_ids(db, candidates.iter().map(|&i| jobs[i].row.id).collect()).await?
        };
        let rows = || candidates.iter().map(|&i| jobs[i].row);
        let repeats = existing(db, rows().filter(|r| !inserted.contains(&r.id))).await?;
        let missing: Vec<&str> = rows()
            .filter(|r| {
                inserted.contains(&r.id) && !done.unread.contains_key(&(r.receiver_id.clone(), r.conversation_id))
            })
            .map(|r| r.receiver_id.as_str())
            .collect();
        let later = unread_of(db, missing).await?;
        let notified = keyed(done.notified);
        for i in candidates {
            let r = jobs[i].row;
            let c = open[&r.conversation_id].clone();
            out[i] = Some(if inserted.contains(&r.id) {
                let figures =
                    done.unread.get(&(r.receiver_id.clone(), r.conversation_id)).copied().unwrap_or_else(|| {
                        let (conversation, total) = later.figures(&r.receiver_id, r.conversation_id);
                        Unread { conversation, total, muted: false, unarchived: None }
                    });
                Ok((fresh(&jobs[i], figures, &notified, None), c))
            } else {
                repeated(&repeats, r, c)
            });
        }
    }
    the_long_way(db, jobs, slow, out, known, now, ctx).await
}

/// SQLite: one script for the messages of conversations the writer
/// remembers, a transaction of the long way for the rest (and for all of
/// them when the script found something it does not handle).
async fn write_script(
    db: &DatabaseConnection,
    jobs: &[Pending<'_>],
    known: &mut Known,
    ctx: &Setup,
) -> AppResult<Vec<Stored>> {
    let now = ctx.clock.now();
    let (fast, mut slow) = split(jobs, known, sqlite::fits);
    let mut out: Vec<Option<Stored>> = (0..jobs.len()).map(|_| None).collect();
    if !fast.is_empty() {
        let fast_jobs: Vec<&Pending> = fast.iter().map(|&i| &jobs[i]).collect();
        let conversations = remembered(&fast_jobs, known);
        match sqlite::write(db, &fast_jobs, &conversations, now, &ctx.webhooks).await? {
            Some(done) => {
                let notified = keyed(done.notified);
                for &i in &fast {
                    let r = jobs[i].row;
                    let c = conversation::Model { last_message_at: now, ..known.0[&r.conversation_id].clone() };
                    let figures = unread_for(r, &done.unread, &done.muted, &done.unarchived, now);
                    out[i] = Some(Ok((fresh(&jobs[i], figures, &notified, None), c)));
                }
            }
            None => {
                // The long way reads the conversations again.
                let ids: Vec<Uuid> = conversations.iter().map(|c| c.id).collect();
                for id in ids {
                    known.0.remove(&id);
                }
                slow.extend(fast);
            }
        }
    }
    the_long_way(db, jobs, slow, out, known, now, ctx).await
}

/// The messages the short way may take (in a remembered conversation, and
/// `fits` it), and the others. Messages the quota counts are charged in a
/// transaction of the long way.
fn split(jobs: &[Pending<'_>], known: &Known, fits: impl Fn(&Pending) -> bool) -> (Vec<usize>, Vec<usize>) {
    (0..jobs.len())
        .partition(|&i| !jobs[i].effects.charge && fits(&jobs[i]) && known.0.contains_key(&jobs[i].row.conversation_id))
}

/// The remembered conversations of these messages, each once, in id order.
fn remembered<'k>(jobs: &[&Pending], known: &'k Known) -> Vec<&'k conversation::Model> {
    let mut conversations: Vec<&conversation::Model> =
        jobs.iter().filter_map(|p| known.0.get(&p.row.conversation_id)).collect();
    conversations.sort_by_key(|c| c.id);
    conversations.dedup_by_key(|c| c.id);
    conversations
}

/// Writes the messages at `slow` in one transaction of the long way and
/// returns every message's outcome (the others are in `out` already).
async fn the_long_way(
    db: &DatabaseConnection,
    jobs: &[Pending<'_>],
    slow: Vec<usize>,
    mut out: Vec<Option<Stored>>,
    known: &mut Known,
    now: DateTime<Utc>,
    ctx: &Setup,
) -> AppResult<Vec<Stored>> {
    if !slow.is_empty() {
        let slow_jobs: Vec<Pending> =
            slow.iter().map(|&i| Pending { row: jobs[i].row, effects: jobs[i].effects }).collect();
        for (i, result) in slow.into_iter().zip(write_in_transaction(db, &slow_jobs, known, now, ctx).await?) {
            out[i] = Some(result);
        }
    }
    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(AppError::internal(anyhow::anyhow!("a message was left out of its batch")))))
        .collect())
}

/// A stored message's receiver's figures, from what its transaction read:
/// the counts (with their mutes), the mutes of pairs without a count, and
/// whom the message brought back from the archive.
fn unread_for(
    r: &message::Model,
    unread: &UnreadOf,
    muted: &HashSet<(String, Uuid)>,
    unarchived: &Unarchived,
    now: DateTime<Utc>,
) -> Unread {
    let pair = (r.receiver_id.clone(), r.conversation_id);
    let (conversation, total) = unread.figures(&r.receiver_id, r.conversation_id);
    Unread {
        conversation,
        total,
        muted: unread.muted(&r.receiver_id, r.conversation_id, now).unwrap_or_else(|| muted.contains(&pair)),
        unarchived: unarchived.get(&pair).map(|&muted_until| Settings { archived: false, muted_until }),
    }
}

/// One transaction: touch the open conversations (which locks them against
/// a concurrent close), insert the messages, count them unread, store their
/// notifications and webhook events, find the repeats.
async fn write_in_transaction(
    db: &DatabaseConnection,
    jobs: &[Pending<'_>],
    known: &mut Known,
    now: DateTime<Utc>,
    ctx: &Setup,
) -> AppResult<Vec<Stored>> {
    let mut ids: Vec<Uuid> = jobs.iter().map(|p| p.row.conversation_id).collect::<HashSet<_>>().into_iter().collect();
    ids.sort();
    let txn = crate::db::begin_write(db).await?;
    let open = touch(&txn, &ids, now, known).await?;
    let shut: HashMap<Uuid, conversation::Model> = if open.len() < ids.len() {
        let closed: Vec<Uuid> = ids.iter().filter(|id| !open.contains_key(id)).copied().collect();
        conversation::Entity::find()
            .filter(conversation::Column::Id.is_in(closed))
            .all(&txn)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect()
    } else {
        HashMap::new()
    };

    let charged = charge(&txn, jobs, &open, &ctx.quota, now).await?;
    let refused = |p: &Pending| charged.get(&p.row.id).is_some_and(|r| r.is_err());
    let writable: Vec<message::ActiveModel> = jobs
        .iter()
        .filter(|p| open.contains_key(&p.row.conversation_id) && !refused(p))
        .map(|p| message::ActiveModel::from(p.row.clone()))
        .collect();
    let inserted = insert(&txn, writable).await?;
    let stored = || jobs.iter().filter(|p| inserted.contains(&p.row.id));
    let unarchived = count_unread(&txn, stored().map(|p| p.row)).await?;
    let unread = unread_of(&txn, stored().map(|p| p.row.receiver_id.as_str())).await?;
    // The counts just read carry their mutes; only pairs left uncounted (a
    // message stored seen, or sent to oneself) are looked up.
    let uncounted: Vec<(String, Uuid)> = stored()
        .filter(|p| unread.muted(&p.row.receiver_id, p.row.conversation_id, now).is_none())
        .map(|p| (p.row.receiver_id.clone(), p.row.conversation_id))
        .collect();
    let muted_uncounted = crate::domain::settings::muted_among(&txn, &uncounted, now).await?;
    let drafts = stored().filter_map(|p| p.effects.notification.clone()).collect();
    let notified = keyed(notifications::store(&txn, drafts, now).await?);
    outbox::enqueue(&txn, &ctx.webhooks, stored().filter_map(|p| p.effects.webhook.clone()).collect()).await?;
    let repeats = existing(
        &txn,
        jobs.iter().map(|p| p.row).filter(|r| open.contains_key(&r.conversation_id) && !inserted.contains(&r.id)),
    )
    .await?;
    txn.commit().await?;
    known.remember(open.values());

    Ok(jobs
        .iter()
        .map(|p| {
            let r = p.row;
            let Some(c) = open.get(&r.conversation_id) else {
                let c = shut.get(&r.conversation_id).ok_or_else(|| AppError::not_found("Conversation"))?;
                return Err(ensure_chat_open(c).err().unwrap_or_else(AppError::closed));
            };
            if let Some(Err(e)) = charged.get(&r.id) {
                return Err(
                    AppError::new(e.code, e.message.clone()).with_details(e.details.clone().unwrap_or_default())
                );
            }
            if inserted.contains(&r.id) {
                let figures = unread_for(r, &unread, &muted_uncounted, &unarchived, now);
                let quota = charged.get(&r.id).and_then(|q| q.as_ref().ok()).cloned();
                Ok((fresh(p, figures, &notified, quota), c.clone()))
            } else {
                repeated(&repeats, r, c.clone())
            }
        })
        .collect())
}
