//! Unread counts kept per (user, conversation), so telling a user their
//! count does not mean counting their unread messages on every message.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UnreadCounts::Table)
                    .if_not_exists()
                    .col(string_len(UnreadCounts::UserId, 64))
                    .col(uuid(UnreadCounts::ConversationId))
                    .col(big_integer(UnreadCounts::Count).default(0))
                    .primary_key(Index::create().col(UnreadCounts::UserId).col(UnreadCounts::ConversationId))
                    .to_owned(),
            )
            .await?;
        // Counts for messages stored before this table existed.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO unread_counts (user_id, conversation_id, count) \
                 SELECT receiver_id, conversation_id, COUNT(*) FROM messages \
                 WHERE seen = false AND sender_id <> receiver_id GROUP BY receiver_id, conversation_id",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UnreadCounts::Table).if_exists().to_owned()).await
    }
}

#[derive(DeriveIden)]
enum UnreadCounts {
    Table,
    UserId,
    ConversationId,
    Count,
}
