//! Per-user conversation settings (archive, mute) and what a direct
//! conversation is about (a listing, a booking: its contexts).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The user's own row for a conversation already exists for its unread
        // count and is written with every message to them: the message that
        // unarchives a conversation then costs no extra statement.
        manager
            .alter_table(
                Table::alter()
                    .table(UnreadCounts::Table)
                    .add_column(boolean(UnreadCounts::Archived).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UnreadCounts::Table)
                    .add_column(timestamp_with_time_zone_null(UnreadCounts::MutedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Conversations::Table).add_column(json_null(Conversations::Contexts)).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConversationContexts::Table)
                    .if_not_exists()
                    .col(uuid(ConversationContexts::ConversationId))
                    .col(string_len(ConversationContexts::ContextType, 64))
                    .col(string_len(ConversationContexts::ContextId, 64))
                    .col(timestamp_with_time_zone(ConversationContexts::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ConversationContexts::ConversationId)
                            .col(ConversationContexts::ContextType)
                            .col(ConversationContexts::ContextId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversation_contexts_context")
                    .table(ConversationContexts::Table)
                    .col(ConversationContexts::ContextType)
                    .col(ConversationContexts::ContextId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ConversationContexts::Table).if_exists().to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Conversations::Table).drop_column(Conversations::Contexts).to_owned())
            .await?;
        for column in [UnreadCounts::Archived, UnreadCounts::MutedUntil] {
            manager.alter_table(Table::alter().table(UnreadCounts::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum UnreadCounts {
    Table,
    Archived,
    MutedUntil,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Contexts,
}

#[derive(DeriveIden)]
enum ConversationContexts {
    Table,
    ConversationId,
    ContextType,
    ContextId,
    CreatedAt,
}
