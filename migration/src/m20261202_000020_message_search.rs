//! Full-text search over messages, kept in step by the statements that
//! write, edit, delete or expire them. `search_text` is the message's words
//! as the server normalises them (lower case, accents stripped), space
//! separated, or NULL for a message nobody can find (deleted). SQLite
//! indexes it with an FTS5 table fed by triggers; PostgreSQL with a
//! generated `tsvector` column and a GIN index. The lexemes are the words
//! as given: no language's stemming, no extension needed.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    // External content: the text lives once, in messages; FTS5 row ids are
    // the messages' row ids.
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(search_text, content='messages', tokenize='ascii')",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages WHEN new.search_text IS NOT NULL BEGIN
        INSERT INTO messages_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
    END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages WHEN old.search_text IS NOT NULL BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF search_text ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, search_text)
            SELECT 'delete', old.rowid, old.search_text WHERE old.search_text IS NOT NULL;
        INSERT INTO messages_fts(rowid, search_text)
            SELECT new.rowid, new.search_text WHERE new.search_text IS NOT NULL;
    END",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE messages ADD COLUMN IF NOT EXISTS search_tsv tsvector GENERATED ALWAYS AS
        (array_to_tsvector(array_remove(string_to_array(coalesce(search_text, ''), ' '), ''))) STORED",
    "CREATE INDEX IF NOT EXISTS idx_messages_search ON messages USING GIN (search_tsv)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Messages::Table).add_column(text_null(Messages::SearchText)).to_owned())
            .await?;
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP INDEX IF EXISTS idx_messages_search").await?;
                db.execute_unprepared("ALTER TABLE messages DROP COLUMN IF EXISTS search_tsv").await?;
            }
            _ => {
                for t in ["messages_fts_insert", "messages_fts_delete", "messages_fts_update"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}")).await?;
                }
                db.execute_unprepared("DROP TABLE IF EXISTS messages_fts").await?;
            }
        }
        manager.alter_table(Table::alter().table(Messages::Table).drop_column(Messages::SearchText).to_owned()).await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    SearchText,
}
