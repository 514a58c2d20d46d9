//! Message operations: edits (with the earlier texts kept for admins),
//! soft deletes, reactions and quoted replies.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            timestamp_with_time_zone_null(Messages::EditedAt),
            timestamp_with_time_zone_null(Messages::DeletedAt),
            uuid_null(Messages::ReplyToId),
            // The quoted message as shown: `{id, sender_id, message}`, kept in
            // step when the quoted message is edited or deleted.
            json_null(Messages::ReplyTo),
            // `[[emoji, [user_id, ...]], ...]` in the order reacted.
            json_null(Messages::Reactions),
        ];
        for column in columns {
            manager.alter_table(Table::alter().table(Messages::Table).add_column(column).to_owned()).await?;
        }
        // Only replies are indexed: finding the replies of an edited message.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_messages_reply_to ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageEdits::Table)
                    .if_not_exists()
                    .col(uuid(MessageEdits::Id).primary_key())
                    .col(uuid(MessageEdits::MessageId))
                    .col(text(MessageEdits::Message))
                    .col(string_len(MessageEdits::EditorId, 64))
                    .col(string_len(MessageEdits::Kind, 16))
                    .col(timestamp_with_time_zone(MessageEdits::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_message_edits_message")
                    .table(MessageEdits::Table)
                    .col(MessageEdits::MessageId)
                    .col(MessageEdits::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(MessageEdits::Table).if_exists().to_owned()).await?;
        manager.get_connection().execute_unprepared("DROP INDEX IF EXISTS idx_messages_reply_to").await?;
        for column in
            [Messages::EditedAt, Messages::DeletedAt, Messages::ReplyToId, Messages::ReplyTo, Messages::Reactions]
        {
            manager.alter_table(Table::alter().table(Messages::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    EditedAt,
    DeletedAt,
    ReplyToId,
    ReplyTo,
    Reactions,
}

#[derive(DeriveIden)]
enum MessageEdits {
    Table,
    Id,
    MessageId,
    Message,
    EditorId,
    Kind,
    CreatedAt,
}
