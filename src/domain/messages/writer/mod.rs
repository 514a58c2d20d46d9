//! Group commit for user messages: concurrent sends queue here and are
//! written together, one transaction per batch, each acknowledged only
//! after the commit that holds it. The batch also re-checks that each
//! conversation is open for free chat, and writes what each message causes
//! (its receiver's notification, its webhook event), in the same
//! transaction.

mod batch;
mod pg;
mod rows;
mod sqlite;

use std::{collections::HashMap, sync::Arc, time::Instant};

use anyhow::Context;
use dashmap::DashMap;
use entity::{conversation, message, notification};
use prometheus_client::metrics::histogram::Histogram;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    config::Settings,
    domain::{clock::Clock, conversations, ids::ConversationId, moderation, notifications, outbox, quota},
    error::{AppError, AppResult},
};

/// Messages written in one transaction at most.
const MAX_BATCH: usize = 256;
/// Conversations whose participants are remembered (they never change).
const MAX_REMEMBERED: usize = 200_000;

/// How a queued message ended.
pub enum Written {
    /// Stored now.
    New(Box<Fresh>),
    /// A message with the same client message id was already stored.
    Existing(Box<message::Model>),
}

/// A message stored now, with what its commit left behind.
pub struct Fresh {
    pub message: message::Model,
    /// The receiver's unread counts right after the commit.
    pub unread: Unread,
    /// The receiver's notification as it now stands.
    pub notification: Option<notification::Model>,
    /// The sender's quota after it, when the quota applies.
    pub quota: Option<quota::State>,
}

impl Fresh {
    /// (receiver, conversation) when this message brought it back from the archive.
    pub fn unarchived_pair(&self) -> Option<(String, Uuid)> {
        self.unread.unarchived.map(|_| (self.message.receiver_id.clone(), self.message.conversation_id))
    }
}

/// What storing a message causes, written in the same transaction.
#[derive(Default)]
pub struct Effects {
    pub notification: Option<notifications::Draft>,
    pub webhook: Option<outbox::Event>,
    /// Whether the daily quota counts it (and may refuse it).
    pub charge: bool,
}

struct Job {
    row: message::Model,
    effects: Effects,
    reply: oneshot::Sender<AppResult<(Written, conversation::Model)>>,
}

/// Who takes part in a conversation (fixed at creation), and its default
/// message lifetime (which a participant may change: remembered briefly).
#[derive(Clone, Debug)]
pub struct Participants {
    pub user1_id: String,
    pub user2_id: String,
    pub conversation_type: String,
    pub message_ttl_seconds: Option<i64>,
    read_at: Instant,
}

/// How long a remembered default message lifetime is trusted: a change made
/// on another node applies here within this long.
const TTL_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(2);

/// Turns at SQLite's one write lock. The writer's batches and the webhook
/// worker's bookkeeping take them first come, first served, instead of
/// polling the lock under its busy timeout, which sleeps 1, 2, 5 ms and
/// more between looks and would hold a batch up for longer than the other
/// transaction lasts. None on PostgreSQL, where writers do not exclude
/// each other.
#[derive(Clone, Default)]
pub struct Turns(Option<Arc<tokio::sync::Mutex<()>>>);

impl Turns {
    fn for_url(database_url: &str) -> Self {
        Self(database_url.starts_with("sqlite:").then(Default::default))
    }

    /// Runs `write` in this process's turn at the write lock.
    pub async fn with<T>(&self, write: impl std::future::Future<Output = T>) -> T {
        let _turn = match &self.0 {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        write.await
    }
}

pub struct Writer {
    jobs: mpsc::Sender<Job>,
    turns: Turns,
    /// Whether messages wait for an emit confirmation (several nodes).
    track_emits: bool,
    participants: DashMap<Uuid, Participants>,
    clock: Clock,
    webhooks: outbox::Webhooks,
    quota: quota::Quota,
    moderation: moderation::Rules,
}

/// What the writer's thread needs.
struct Setup {
    metrics: BatchMetrics,
    clock: Clock,
    webhooks: outbox::Webhooks,
    quota: quota::Quota,
    turns: Turns,
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
        webhooks: outbox::Webhooks,
    ) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::channel(MAX_BATCH * 16);
        let (ready, started) = oneshot::channel::<anyhow::Result<()>>();
        let moderation = moderation::Rules::new(&settings.moderation);
        let settings = settings.clone();
        let quota = quota::Quota::from(&settings.time_rules);
        let turns = Turns::for_url(&settings.database_url);
        let ctx = Setup {
            metrics,
            clock: clock.clone(),
            webhooks: webhooks.clone(),
            quota: quota.clone(),
            turns: turns.clone(),
        };
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
                    run(&db, queue, &ctx).await;
                    if let Err(e) = db.close().await {
                        tracing::debug!(error = %e, "closing the writer's connection");
                    }
                });
            })
            .context("could not start the message writer thread")?;
        started.await.context("the message writer thread stopped during start-up")??;
        Ok(Self { jobs, turns, track_emits, participants: DashMap::new(), clock, webhooks, quota, moderation })
    }

    /// The turns at the write lock that other writers of the hot path share
    /// with the batches (on SQLite).
    pub fn turns(&self) -> &Turns {
        &self.turns
    }

    pub fn quota(&self) -> &quota::Quota {
        &self.quota
    }

    /// The automatic moderation rules every user message passes.
    pub fn moderation(&self) -> &moderation::Rules {
        &self.moderation
    }

    /// Forgets what is remembered of a conversation (its settings changed).
    pub fn forget(&self, id: Uuid) {
        self.participants.remove(&id);
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn webhooks(&self) -> &outbox::Webhooks {
        &self.webhooks
    }

    /// Who takes part in a conversation, remembered after the first look.
    pub async fn participants_of(&self, db: &impl ConnectionTrait, id: ConversationId) -> AppResult<Participants> {
        if let Some(p) = self.participants.get(&id.0)
            && p.read_at.elapsed() < TTL_FRESH_FOR
        {
            return Ok(p.clone());
        }
        let c = conversations::load(db, id).await?;
        let p = Participants {
            user1_id: c.user1_id,
            user2_id: c.user2_id,
            conversation_type: c.conversation_type,
            message_ttl_seconds: c.message_ttl_seconds,
            read_at: Instant::now(),
        };
        if self.participants.len() >= MAX_REMEMBERED {
            self.participants.clear();
        }
        self.participants.insert(c.id, p.clone());
        Ok(p)
    }

    /// Queues a message and waits for the commit that stores it. Returns the
    /// conversation as that transaction saw it.
    pub async fn write(&self, mut row: message::Model, effects: Effects) -> AppResult<(Written, conversation::Model)> {
        row.emit_pending = self.track_emits;
        let (reply, done) = oneshot::channel();
        self.jobs
            .send(Job { row, effects, reply })
            .await
            .map_err(|_| AppError::internal(anyhow::anyhow!("message writer stopped")))?;
        done.await.map_err(|_| AppError::internal(anyhow::anyhow!("message writer dropped a message")))?
    }
}

/// Whole conversations the writer remembers (a campaign conversation's flow
/// data makes one a few KiB): enough for every chat active at once on a node.
const MAX_KNOWN: usize = 20_000;

/// A queued message and what it causes.
pub struct Pending<'a> {
    pub row: &'a message::Model,
    pub effects: &'a Effects,
}

/// How one message of a batch ended, with its conversation as the batch saw it.
type Stored = AppResult<(Written, conversation::Model)>;

/// Conversations as the writer last saw them, by id. A conversation's
/// `version` changes with every change of its state (the flow engine is the
/// only other writer of conversations), so a remembered model whose version
/// still matches is exact but for `last_message_at`, which the writer sets.
#[derive(Default)]
pub struct Known(HashMap<Uuid, conversation::Model>);

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

/// Where the writer reports its batches (sizes and durations).
#[derive(Clone)]
pub struct BatchMetrics {
    pub size: Histogram,
    pub seconds: Histogram,
}

/// A receiver's unread counts as the commit that stored a message left them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unread {
    pub conversation: u64,
    /// Over the conversations the receiver has not archived.
    pub total: u64,
    /// Whether the receiver has muted the conversation (no notification event).
    pub muted: bool,
    /// Set on the first message of a batch that brought the conversation
    /// back from the receiver's archive: their settings as they now are, for
    /// `conversation_settings_updated`.
    pub unarchived: Option<crate::domain::settings::Settings>,
}

async fn run(db: &DatabaseConnection, mut queue: mpsc::Receiver<Job>, ctx: &Setup) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut known = Known::default();
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let started = Instant::now();
        let pending: Vec<Pending> = jobs.iter().map(|j| Pending { row: &j.row, effects: &j.effects }).collect();
        let written = ctx.turns.with(batch::write(db, &pending, &mut known, ctx)).await;
        ctx.metrics.size.observe(jobs.len() as f64);
        ctx.metrics.seconds.observe(started.elapsed().as_secs_f64());
        drop(pending);
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
                    let one = [Pending { row: &job.row, effects: &job.effects }];
                    let result = match ctx.turns.with(batch::write(db, &one, &mut known, ctx)).await {
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
