//! Database connections and migrations.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Settings;

pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    connect_pool(settings, settings.database_max_connections).await
}

/// A pool of at most `max` connections to the configured database.
pub async fn connect_pool(settings: &Settings, max: u32) -> anyhow::Result<DatabaseConnection> {
    open(settings, max, Durability::Full).await
}

/// A pool for bookkeeping that may be redone (the webhook worker's leases
/// and results): its commits do not wait for the disk. A crash of the
/// process loses none of them; a power failure may lose the last few, and
/// what they recorded is then done again (a delivery attempted twice, which
/// receivers dedupe by its id). On SQLite this keeps the worker from holding
/// the single write lock through a disk sync while message batches wait.
pub async fn connect_relaxed(settings: &Settings, max: u32) -> anyhow::Result<DatabaseConnection> {
    open(settings, max, Durability::Relaxed).await
}

#[derive(Clone, Copy)]
enum Durability {
    /// Every commit is on disk before it returns.
    Full,
    /// Commits reach the disk with the next full one or checkpoint.
    Relaxed,
}

async fn open(settings: &Settings, max: u32, durability: Durability) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(settings.database_url.clone());
    opts.max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            // WAL lets readers run beside the writer; FULL makes each commit
            // durable (NORMAL: with the next FULL commit or checkpoint); the
            // busy timeout queues writers instead of failing them. No commit
            // checkpoints the WAL on its way out (`keep_checkpoints` does, in
            // the background), so none waits for the database file's sync.
            let synchronous = match durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Relaxed => SqliteSynchronous::Normal,
            };
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .pragma("wal_autocheckpoint", "0")
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        })
        .map_sqlx_postgres_opts(move |o| match durability {
            Durability::Full => o,
            Durability::Relaxed => o.options([("synchronous_commit", "off")]),
        });
    Database::connect(opts)
        .await
        .with_context(|| format!("could not connect to the database ({})", redact(&settings.database_url)))
}

/// How often the SQLite WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// SQLite: copies the WAL into the database file every `CHECKPOINT_EVERY`,
/// on a connection of its own, instead of in whichever commit crosses
/// SQLite's 1,000-page mark (where the message writer would wait for the
/// copy and the database file's sync, holding up every message queued
/// behind it). A passive checkpoint takes no write lock: commits go on
/// beside it. Does nothing on PostgreSQL.
pub async fn keep_checkpoints(settings: Settings) {
    if !settings.database_url.starts_with("sqlite:") {
        return;
    }
    let db = match connect_pool(&settings, 1).await {
        Ok(db) => db,
        Err(e) => {
            tracing::error!(error = %e, "no connection for WAL checkpoints: the WAL grows until Parley stops");
            return;
        }
    };
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
            tracing::warn!(error = %e, "WAL checkpoint failed; trying again");
        }
    }
}

/// Applies pending migrations. On PostgreSQL an advisory lock makes nodes
/// that start together take turns.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7202611221)").await?;
        Migrator::up(&txn, None).await.context("database migrations failed")?;
        txn.commit().await?;
        Ok(())
    } else {
        Migrator::up(db, None).await.context("database migrations failed")
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at once (`BEGIN IMMEDIATE`, waiting under the busy timeout): a deferred
/// transaction that reads first fails outright if another writer commits
/// before it upgrades. PostgreSQL ignores the option.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// A database URL without its password, for messages.
/// The pool's open and idle connections, for the metrics.
pub fn pool_stats(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    }
}

pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    /// `.cargo/config.toml` builds SQLite with stable plans: without them
    /// every statement with a bound limit is prepared again at each use.
    #[tokio::test]
    async fn embedded_sqlite_keeps_plans_stable() {
        use sea_orm::{ConnectionTrait, Statement};
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let options = db
            .query_all_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA compile_options"))
            .await
            .unwrap();
        let names: Vec<String> = options.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
        assert!(names.iter().any(|n| n == "ENABLE_QPSG"), "compile options: {names:?}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(super::redact("sqlite://parley.db?mode=rwc"), "sqlite://parley.db?mode=rwc");
    }
}
