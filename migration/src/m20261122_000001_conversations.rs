//! Users, conversations and messages.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(string_len(Users::Id, 64).primary_key())
                    .col(string_len_null(Users::Role, 32))
                    .col(string_null(Users::Name))
                    .col(string_null(Users::Email))
                    .col(string_null(Users::Phone))
                    .col(timestamp_with_time_zone_null(Users::LastSeenAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .if_not_exists()
                    .col(uuid(Conversations::Id).primary_key())
                    .col(string_len(Conversations::ConversationType, 16))
                    .col(string_len(Conversations::User1Id, 64))
                    .col(string_len(Conversations::User2Id, 64))
                    // One direct conversation per pair, one flow conversation per
                    // (campaign or bid, influencer): enforced by the database, so it
                    // holds under concurrent requests.
                    .col(string_len_uniq(Conversations::PairKey, 200))
                    .col(uuid_null(Conversations::CampaignId))
                    .col(uuid_null(Conversations::BidId))
                    .col(uuid_null(Conversations::RequestId))
                    .col(string_len(Conversations::ChatStatus, 16))
                    .col(string_len_null(Conversations::FlowState, 40))
                    .col(string_len_null(Conversations::AwaitingRole, 16))
                    .col(json(Conversations::FlowData))
                    .col(json_null(Conversations::CurrentActionData))
                    .col(integer(Conversations::RevisionCount).default(0))
                    .col(integer(Conversations::MaxRevisions).default(3))
                    .col(big_integer(Conversations::Version).default(0))
                    .col(timestamp_with_time_zone(Conversations::LastMessageAt))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .col(timestamp_with_time_zone(Conversations::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Conversation lists: "my conversations, newest activity first".
        for (name, col) in [
            ("idx_conversations_user1_activity", Conversations::User1Id),
            ("idx_conversations_user2_activity", Conversations::User2Id),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(Conversations::Table)
                        .col(col)
                        .col(Conversations::LastMessageAt)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .if_not_exists()
                    .col(uuid(Messages::Id).primary_key())
                    .col(uuid(Messages::ConversationId))
                    .col(string_len(Messages::SenderId, 64))
                    .col(string_len(Messages::ReceiverId, 64))
                    .col(text(Messages::Message))
                    .col(string_len_null(Messages::MediaUrl, 2048))
                    .col(string_len(Messages::MessageType, 16))
                    .col(boolean(Messages::ActionRequired).default(false))
                    .col(json_null(Messages::ActionData))
                    .col(boolean(Messages::IsAutomated).default(false))
                    .col(boolean(Messages::ActionCompleted).default(false))
                    .col(boolean(Messages::Seen).default(false))
                    .col(timestamp_with_time_zone_null(Messages::SeenAt))
                    .col(string_len_null(Messages::ClientMessageId, 128))
                    .col(timestamp_with_time_zone_null(Messages::ExpiresAt))
                    .col(boolean(Messages::EmitPending).default(false))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_conversation")
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // History and cursors: ids are time-ordered, so (conversation, id) serves both.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_messages_conversation_id")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await?;
        // Unread counts: "messages to me, not seen, by conversation".
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_messages_unread")
                    .table(Messages::Table)
                    .col(Messages::ReceiverId)
                    .col(Messages::Seen)
                    .col(Messages::ConversationId)
                    .to_owned(),
            )
            .await?;
        // Messages stored but not yet known to be emitted (a node may die in
        // between): few at any time, so a partial index finds them cheaply.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_messages_emit_pending ON messages (created_at) WHERE emit_pending",
            )
            .await?;
        // Idempotent sends: a sender's client message id is unique in a conversation.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("uq_messages_client_message_id")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::SenderId)
                    .col(Messages::ClientMessageId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Messages::Table.into_iden(), Conversations::Table.into_iden(), Users::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Role,
    Name,
    Email,
    Phone,
    LastSeenAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Conversations {
    Table,
    Id,
    ConversationType,
    User1Id,
    User2Id,
    PairKey,
    CampaignId,
    BidId,
    RequestId,
    ChatStatus,
    FlowState,
    AwaitingRole,
    FlowData,
    CurrentActionData,
    RevisionCount,
    MaxRevisions,
    Version,
    LastMessageAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    SenderId,
    ReceiverId,
    Message,
    MediaUrl,
    MessageType,
    ActionRequired,
    ActionData,
    IsAutomated,
    ActionCompleted,
    Seen,
    SeenAt,
    ClientMessageId,
    ExpiresAt,
    EmitPending,
    CreatedAt,
}
