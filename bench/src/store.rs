//! The server's database as the bench sees it: how many of a run's messages
//! were stored, and a reset between servers so both start from the same
//! table.

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let db = Database::connect(url).await.with_context(|| format!("could not open the database {url}"))?;
        Ok(Self { db })
    }

    fn placeholder(&self) -> &'static str {
        match self.db.get_database_backend() {
            DbBackend::Postgres => "$1",
            _ => "?",
        }
    }

    /// Rows of the `messages` table whose client message id belongs to `run`.
    pub async fn count_run(&self, run: &str) -> anyhow::Result<u64> {
        let sql = format!("SELECT COUNT(*) AS n FROM messages WHERE client_message_id LIKE {}", self.placeholder());
        let stmt = Statement::from_sql_and_values(self.db.get_database_backend(), sql, [format!("{run}-%").into()]);
        let row = self.db.query_one_raw(stmt).await?.context("COUNT returned no row")?;
        let n: i64 = row.try_get("", "n")?;
        Ok(n.max(0) as u64)
    }

    /// Deletes every message (conversations and users stay), so each server
    /// starts a scenario set with the same empty history.
    pub async fn clear_messages(&self) -> anyhow::Result<u64> {
        let res = self.db.execute_unprepared("DELETE FROM messages").await?;
        if self.db.get_database_backend() == DbBackend::Postgres {
            self.db.execute_unprepared("VACUUM ANALYZE messages").await?;
        }
        Ok(res.rows_affected())
    }
}
