//! Search within the caller's conversations without ranking everyone's
//! matches first. On SQLite the FTS5 index gains a second column, `scope`,
//! holding one token per message for its conversation (`c` and the id in
//! hex), so a user's search intersects the word's matches with the few
//! hundred postings of their conversations inside the index; the table
//! becomes contentless (it stores only the index) and keeps prefix indexes
//! of two and three characters, so a short last word is one lookup. The
//! index is rebuilt from `messages`. PostgreSQL is unchanged.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The scope token of a message row, in SQL.
const SCOPE: &str = "'c' || lower(hex(conversation_id))";

fn sqlite_up() -> Vec<String> {
    let scope = |row: &str| SCOPE.replace("conversation_id", &format!("{row}.conversation_id"));
    let (new, old) = (scope("new"), scope("old"));
    vec![
        "DROP TRIGGER IF EXISTS messages_fts_insert".into(),
        "DROP TRIGGER IF EXISTS messages_fts_delete".into(),
        "DROP TRIGGER IF EXISTS messages_fts_update".into(),
        "DROP TABLE IF EXISTS messages_fts".into(),
        "CREATE VIRTUAL TABLE messages_fts USING fts5(search_text, scope, content='', tokenize='ascii', prefix='2 3')"
            .into(),
        format!(
            "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.search_text IS NOT NULL BEGIN
                INSERT INTO messages_fts(rowid, search_text, scope) VALUES (new.rowid, new.search_text, {new});
            END"
        ),
        format!(
            "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.search_text IS NOT NULL BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, search_text, scope)
                    VALUES ('delete', old.rowid, old.search_text, {old});
            END"
        ),
        format!(
            "CREATE TRIGGER messages_fts_update AFTER UPDATE OF search_text ON messages BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, search_text, scope)
                    SELECT 'delete', old.rowid, old.search_text, {old} WHERE old.search_text IS NOT NULL;
                INSERT INTO messages_fts(rowid, search_text, scope)
                    SELECT new.rowid, new.search_text, {new} WHERE new.search_text IS NOT NULL;
            END"
        ),
        format!(
            "INSERT INTO messages_fts(rowid, search_text, scope)
                SELECT rowid, search_text, {SCOPE} FROM messages WHERE search_text IS NOT NULL"
        ),
    ]
}

/// The index as the search migration left it.
const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TABLE IF EXISTS messages_fts",
    "CREATE VIRTUAL TABLE messages_fts USING fts5(search_text, content='messages', tokenize='ascii')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.search_text IS NOT NULL BEGIN
        INSERT INTO messages_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
    END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.search_text IS NOT NULL BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF search_text ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, search_text)
            SELECT 'delete', old.rowid, old.search_text WHERE old.search_text IS NOT NULL;
        INSERT INTO messages_fts(rowid, search_text)
            SELECT new.rowid, new.search_text WHERE new.search_text IS NOT NULL;
    END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for sql in sqlite_up() {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for sql in SQLITE_DOWN {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
