//! Fewer pages written per stored message. Unread counts are kept in
//! `unread_counts` and counted down by the transactions that mark messages
//! seen or delete them, so `messages` no longer needs its (receiver, seen,
//! conversation) index, which every insert paid for on a random page. On
//! SQLite, `unread_counts` becomes a table without rowids: the row lives in
//! its primary-key b-tree instead of a table plus an index (one page
//! instead of two for every count a message raises).

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_messages_unread").await?;
        if manager.get_database_backend() == DbBackend::Sqlite {
            // One script, so one connection of the pool runs all of it.
            db.execute_unprepared(
                "CREATE TABLE unread_counts_compact ( \
                   user_id varchar(64) NOT NULL, conversation_id uuid_text NOT NULL, \
                   count integer NOT NULL DEFAULT 0, PRIMARY KEY (user_id, conversation_id) \
                 ) WITHOUT ROWID; \
                 INSERT INTO unread_counts_compact SELECT user_id, conversation_id, count FROM unread_counts; \
                 DROP TABLE unread_counts; \
                 ALTER TABLE unread_counts_compact RENAME TO unread_counts;",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_messages_unread ON messages (receiver_id, seen, conversation_id)",
            )
            .await?;
        Ok(())
    }
}
