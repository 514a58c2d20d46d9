//! Group commit for user messages: concurrent sends queue here and are
//! written together, one transaction per batch, each acknowledged only
//! after the commit that holds it. The batch also re-checks that each
//! conversation is open for free chat, in the same transaction.

use std::collections::{HashMap, HashSet};

use std::time::Instant;

use anyhow::Context;
use dashmap::DashMap;
use entity::{conversation, message};
use prometheus_client::metrics::histogram::Histogram;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, Set, sea_query::OnConflict,
};
use tokio::sync::{mpsc, oneshot};

use crate::domain::names::ChatStatus;
use uuid::Uuid;

mod pg;
use crate::{
    config::Settings,
    domain::{
        clock::Clock,
        conversations::{self, ensure_chat_open},
        ids::ConversationId,
    },
    error::{AppError, AppResult},
};

/// Messages written in one transaction at most.
const MAX_BATCH: usize = 256;
/// Conversations whose participants are remembered (they never change).
const MAX_REMEMBERED: usize = 200_000;
/// Whole conversations the writer remembers (a campaign conversation's flow
/// data makes one a few KiB): enough for every chat active at once on a node.
const MAX_KNOWN: usize = 20_000;

/// How a queued message ended.
pub enum Written {
    /// Stored now, with the receiver's unread counts right after the commit.
    New(message::Model, Unread),
    /// A message with the same client message id was already stored.
    Existing(message::Model),
}

struct Job {
    row: message::Model,
    reply: oneshot::Sender<AppResult<(Written, conversation::Model)>>,
}

/// Who takes part in a conversation: fixed at creation, so safe to remember.
#[derive(Clone, Debug)]
pub struct Participants {
    pub user1_id: String,
    pub user2_id: String,
    pub conversation_type: String,
}

pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Whether messages wait for an emit confirmation (several nodes).
    track_emits: bool,
    participants: DashMap<Uuid, Participants>,
    clock: Clock,
}

impl Writer {
    /// Starts the writer on a thread of its own, with its own connection:
    /// its few round trips per batch are then never queued behind socket
    /// work on the main runtime, which is what bounds a batch's duration.
    pub async fn start(
        settings: &Settings,
        track_emits: bool,
        metrics: BatchMetrics,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::channel(MAX_BATCH * 16);
        let (ready, started) = oneshot::channel::<anyhow::Result<()>>();
        let settings = settings.clone();
        let batch_clock = clock.clone();
        std::thread::Builder::new()
            .name("parley-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready.send(Err(e.into()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let db = match crate::db::connect_pool(&settings, 1).await {
                        Ok(db) => db,
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready.send(Ok(()));
                    run(&db, queue, metrics, &batch_clock).await;
                    if let Err(e) = db.close().await {
                        tracing::debug!(error = %e, "closing the writer's connection");
                    }
                });
            })
            .context("could not start the message writer thread")?;
        started.await.context("the message writer thread stopped during start-up")??;
        Ok(Self { jobs, track_emits, participants: DashMap::new(), clock })
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Who takes part in a conversation, remembered after the first look.
    pub async fn participants_of(&self, db: &impl ConnectionTrait, id: ConversationId) -> AppResult<Participants> {
        if let Some(p) = self.participants.get(&id.0) {
            return Ok(p.clone());
        }
        let c = conversations::load(db, id).await?;
        self.remember(&c);
        Ok(Participants { user1_id: c.user1_id, user2_id: c.user2_id, conversation_type: c.conversation_type })
    }

    fn remember(&self, c: &conversation::Model) {
        if self.participants.len() >= MAX_REMEMBERED {
            self.participants.clear();
        }
        self.participants.insert(
            c.id,
            Participants {
                user1_id: c.user1_id.clone(),
                user2_id: c.user2_id.clone(),
                conversation_type: c.conversation_type.clone(),
            },
        );
    }

    /// Queues a message and waits for the commit that stores it. Returns the
    /// conversation as that transaction saw it.
    pub async fn write(&self, mut row: message::Model) -> AppResult<(Written, conversation::Model)> {
        row.emit_pending = self.track_emits;
        let (reply, done) = oneshot::channel();
        self.jobs
            .send(Job { row, reply })
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("message writer stopped")))?;
        done.await.map_err(|_| AppError::internal(anyhow::anyhow!("message writer dropped a message")))?
    }
}

/// Where the writer reports its batches (sizes and durations).
#[derive(Clone)]
pub struct BatchMetrics {
    pub size: Histogram,
    pub seconds: Histogram,
}

async fn run(db: &DatabaseConnection, mut queue: mpsc::Receiver<Job>, metrics: BatchMetrics, clock: &Clock) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut known = Known::default();
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let rows: Vec<&message::Model> = jobs.iter().map(|j| &j.row).collect();
        let started = Instant::now();
        let written = write_batch(db, &rows, &mut known, clock).await;
        metrics.size.observe(rows.len() as f64);
        metrics.seconds.observe(started.elapsed().as_secs_f64());
        match written {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) if jobs.len() > 1 => {
                // One bad row must not fail the others: write them one by one.
                tracing::warn!(error = %e, size = jobs.len(), "message batch failed; writing its messages one by one");
                for job in jobs {
                    let result = match write_batch(db, &[&job.row], &mut known, clock).await {
                        Ok(mut r) => r.pop().unwrap_or_else(|| Err(AppError::internal(anyhow::anyhow!("empty batch")))),
                        Err(e) => Err(e),
                    };
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                for job in jobs {
                    let _ = job.reply.send(Err(AppError::internal(anyhow::anyhow!("{e:#}"))));
                }
            }
        }
    }
}

/// A receiver's unread counts as the commit that stored a message left them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unread {
    pub conversation: u64,
    pub total: u64,
}

/// How one message of a batch ended, with its conversation as the batch saw it.
type Stored = AppResult<(Written, conversation::Model)>;

/// Writes a batch: on PostgreSQL, the messages of remembered conversations by
/// one statement (`pg`), the others (and any whose conversation changed
/// since) by a transaction; elsewhere all by a transaction.
async fn write_batch(
    db: &DatabaseConnection,
    rows: &[&message::Model],
    known: &mut Known,
    clock: &Clock,
) -> AppResult<Vec<Stored>> {
    let now = clock.now();
    if db.get_database_backend() != DbBackend::Postgres {
        return write_in_transaction(db, rows, known, now).await;
    }
    let (fast, mut slow): (Vec<usize>, Vec<usize>) =
        (0..rows.len()).partition(|&i| known.0.contains_key(&rows[i].conversation_id));
    let mut out: Vec<Option<Stored>> = (0..rows.len()).map(|_| None).collect();
    if !fast.is_empty() {
        let mut conversations: Vec<&conversation::Model> =
            fast.iter().filter_map(|&i| known.0.get(&rows[i].conversation_id)).collect();
        conversations.sort_by_key(|c| c.id);
        conversations.dedup_by_key(|c| c.id);
        let fast_rows: Vec<&message::Model> = fast.iter().map(|&i| rows[i]).collect();
        let done = pg::write(db, &fast_rows, &conversations, now).await?;
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
            fast.into_iter().partition(|&i| open.contains_key(&rows[i].conversation_id));
        slow.extend(changed);
        let inserted: HashSet<Uuid> = if done.stored == candidates.len() {
            candidates.iter().map(|&i| rows[i].id).collect()
        } else {
            stored_ids(db, candidates.iter().map(|&i| rows[i].id).collect()).await?
        };
        let repeats = existing(db, candidates.iter().map(|&i| rows[i]).filter(|r| !inserted.contains(&r.id))).await?;
        let missing: Vec<&str> = candidates
            .iter()
            .map(|&i| rows[i])
            .filter(|r| {
                inserted.contains(&r.id) && !done.unread.contains_key(&(r.receiver_id.clone(), r.conversation_id))
            })
            .map(|r| r.receiver_id.as_str())
            .collect();
        let later = super::unread_of(db, missing).await?;
        for i in candidates {
            let r = rows[i];
            let c = open[&r.conversation_id].clone();
            out[i] = Some(if inserted.contains(&r.id) {
                let figures =
                    done.unread.get(&(r.receiver_id.clone(), r.conversation_id)).copied().unwrap_or_else(|| {
                        let counts = later.get(r.receiver_id.as_str());
                        Unread {
                            conversation: counts.and_then(|u| u.get(&r.conversation_id)).copied().unwrap_or(0),
                            total: counts.map(|u| u.values().sum()).unwrap_or(0),
                        }
                    });
                Ok((Written::New(r.clone(), figures), c))
            } else {
                repeated(&repeats, r, c)
            });
        }
    }
    if !slow.is_empty() {
        let slow_rows: Vec<&message::Model> = slow.iter().map(|&i| rows[i]).collect();
        for (i, result) in slow.into_iter().zip(write_in_transaction(db, &slow_rows, known, now).await?) {
            out[i] = Some(result);
        }
    }
    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(AppError::internal(anyhow::anyhow!("a message was left out of its batch")))))
        .collect())
}

/// One transaction: touch the open conversations (which locks them against
/// a concurrent close), insert the messages, find the repeats.
async fn write_in_transaction(
    db: &DatabaseConnection,
    rows: &[&message::Model],
    known: &mut Known,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<Stored>> {
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.conversation_id).collect::<HashSet<_>>().into_iter().collect();
    ids.sort();
    let txn = crate::db::begin_write(db).await?;
    let open = touch(&txn, &ids, now, known).await?;
    let shut: HashMap<Uuid, conversation::Model> = if open.len() < ids.len() {
        conversation::Entity::find()
            .filter(
                conversation::Column::Id
                    .is_in(ids.iter().filter(|id| !open.contains_key(id)).copied().collect::<Vec<_>>()),
            )
            .all(&txn)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect()
    } else {
        HashMap::new()
    };

    let writable: Vec<message::ActiveModel> = rows
        .iter()
        .filter(|r| open.contains_key(&r.conversation_id))
        .map(|r| message::ActiveModel::from((*r).clone()))
        .collect();
    let inserted = insert(&txn, writable).await?;
    let stored = || rows.iter().filter(|r| inserted.contains(&r.id)).copied();
    super::count_unread(&txn, stored()).await?;
    let unread = super::unread_of(&txn, stored().map(|r| r.receiver_id.as_str())).await?;
    let repeats = existing(
        &txn,
        rows.iter().copied().filter(|r| open.contains_key(&r.conversation_id) && !inserted.contains(&r.id)),
    )
    .await?;
    txn.commit().await?;
    known.remember(open.values());

    Ok(rows
        .iter()
        .map(|r| {
            let Some(c) = open.get(&r.conversation_id) else {
                let c = shut.get(&r.conversation_id).ok_or_else(|| AppError::not_found("Conversation"))?;
                return Err(ensure_chat_open(c).err().unwrap_or_else(AppError::closed));
            };
            if inserted.contains(&r.id) {
                let counts = unread.get(r.receiver_id.as_str());
                let figures = Unread {
                    conversation: counts.and_then(|u| u.get(&r.conversation_id)).copied().unwrap_or(0),
                    total: counts.map(|u| u.values().sum()).unwrap_or(0),
                };
                Ok((Written::New((*r).clone(), figures), c.clone()))
            } else {
                repeated(&repeats, r, c.clone())
            }
        })
        .collect())
}

/// Conversations as the writer last saw them, by id. A conversation's
/// `version` changes with every change of its state (the flow engine is the
/// only other writer of conversations), so a remembered model whose version
/// still matches is exact but for `last_message_at`, which the writer sets.
#[derive(Default)]
struct Known(HashMap<Uuid, conversation::Model>);

impl Known {
    fn remember<'a>(&mut self, models: impl IntoIterator<Item = &'a conversation::Model>) {
        if self.0.len() >= MAX_KNOWN {
            self.0.clear();
        }
        for c in models {
            self.0.insert(c.id, c.clone());
        }
    }
}

/// Sets `last_message_at` of the conversations among `ids` that are open for
/// free chat (locking them against a concurrent close) and returns them as
/// they now are. Remembered conversations whose version is unchanged are
/// touched without reading them back (on SQLite every row read back is a
/// hand-off between threads); the others are read back by `RETURNING`.
async fn touch(
    txn: &DatabaseTransaction,
    ids: &[Uuid],
    now: chrono::DateTime<chrono::Utc>,
    known: &mut Known,
) -> AppResult<HashMap<Uuid, conversation::Model>> {
    let mut open = HashMap::new();
    let remembered: Vec<&conversation::Model> = ids.iter().filter_map(|id| known.0.get(id)).collect();
    if !remembered.is_empty() {
        let unchanged = remembered.iter().fold(Condition::any(), |any, c| {
            any.add(
                Condition::all()
                    .add(conversation::Column::Id.eq(c.id))
                    .add(conversation::Column::Version.eq(c.version)),
            )
        });
        let touched = conversation::Entity::update_many()
            .set(conversation::ActiveModel { last_message_at: Set(now), ..Default::default() })
            .filter(conversation::Column::ChatStatus.eq(ChatStatus::RealTime.as_str()))
            .filter(unchanged)
            .exec(txn)
            .await?
            .rows_affected;
        if touched as usize == remembered.len() {
            for c in remembered {
                open.insert(c.id, conversation::Model { last_message_at: now, ..c.clone() });
            }
        } else {
            // Something changed (closed, or a new version): forget them all
            // and read them back below.
            for id in ids {
                known.0.remove(id);
            }
        }
    }
    let rest: Vec<Uuid> = ids.iter().filter(|id| !open.contains_key(*id)).copied().collect();
    if !rest.is_empty() {
        let fresh = conversation::Entity::update_many()
            .set(conversation::ActiveModel { last_message_at: Set(now), ..Default::default() })
            .filter(conversation::Column::Id.is_in(rest))
            .filter(conversation::Column::ChatStatus.eq(ChatStatus::RealTime.as_str()))
            .exec_with_returning(txn)
            .await?;
        open.extend(fresh.into_iter().map(|c| (c.id, c)));
    }
    Ok(open)
}

/// Inserts the messages, skipping repeats of a stored client message id, and
/// returns the ids stored. Nothing comes back per row in the common case (on
/// SQLite each returned row is a hand-off between threads): only when the
/// count falls short are the stored ids looked up.
async fn insert(txn: &DatabaseTransaction, writable: Vec<message::ActiveModel>) -> AppResult<HashSet<Uuid>> {
    let ids: Vec<Uuid> = writable.iter().filter_map(|m| m.id.try_as_ref().copied()).collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let stored = message::Entity::insert_many(writable)
        .on_conflict(
            OnConflict::columns([
                message::Column::ConversationId,
                message::Column::SenderId,
                message::Column::ClientMessageId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await;
    let count = match stored {
        Ok(n) => n,
        // Every row repeated a stored one.
        Err(sea_orm::DbErr::RecordNotInserted) => 0,
        Err(e) => return Err(e.into()),
    };
    if count as usize == ids.len() {
        return Ok(ids.into_iter().collect());
    }
    if count == 0 {
        return Ok(HashSet::new());
    }
    stored_ids(txn, ids).await
}

/// Which of these (fresh) message ids are stored.
async fn stored_ids(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<HashSet<Uuid>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(message::Column::Id.is_in(ids))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The stored messages that rows not inserted repeated (same client id).
async fn existing<'a>(
    db: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = &'a message::Model>,
) -> AppResult<Repeats> {
    let mut any = Condition::any();
    let mut asked = false;
    for r in rows {
        let Some(cmid) = &r.client_message_id else { continue };
        asked = true;
        any = any.add(
            Condition::all()
                .add(message::Column::ConversationId.eq(r.conversation_id))
                .add(message::Column::SenderId.eq(r.sender_id.as_str()))
                .add(message::Column::ClientMessageId.eq(cmid.as_str())),
        );
    }
    if !asked {
        return Ok(HashMap::new());
    }
    Ok(message::Entity::find()
        .filter(any)
        .all(db)
        .await?
        .into_iter()
        .map(|m| ((m.conversation_id, (m.sender_id.clone(), m.client_message_id.clone().unwrap_or_default())), m))
        .collect())
}

/// Stored messages by (conversation, (sender, client message id)).
type Repeats = HashMap<(Uuid, (String, String)), message::Model>;

/// The answer for a message that was not inserted: the stored one it repeated.
fn repeated(repeats: &Repeats, r: &message::Model, c: conversation::Model) -> Stored {
    let key = (r.sender_id.clone(), r.client_message_id.clone().unwrap_or_default());
    repeats
        .get(&(r.conversation_id, key))
        .map(|m| (Written::Existing(m.clone()), c))
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("message {} neither stored nor found", r.id)))
}
