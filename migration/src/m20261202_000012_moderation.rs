//! Moderation and administration: what masking took out of a message (for
//! admins), flags (reports and the automatic rules' findings), bans, the
//! audit log of admin actions, and the indexes the analytics read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [text_null(Messages::OriginalMessage), json_null(Messages::Moderation)] {
            manager.alter_table(Table::alter().table(Messages::Table).add_column(column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Flags::Table)
                    .if_not_exists()
                    .col(uuid(Flags::Id).primary_key())
                    .col(string_len_null(Flags::ReporterId, 64))
                    .col(string_len(Flags::TargetType, 16))
                    .col(uuid_null(Flags::MessageId))
                    .col(string_len(Flags::TargetUserId, 64))
                    .col(uuid_null(Flags::ConversationId))
                    .col(string_len(Flags::Reason, 32))
                    .col(text_null(Flags::Note))
                    .col(string_len(Flags::Status, 16))
                    .col(string_len_null(Flags::OpenKey, 200).unique_key())
                    .col(string_len_null(Flags::Resolution, 32))
                    .col(text_null(Flags::ResolutionNote))
                    .col(string_len_null(Flags::ResolvedBy, 64))
                    .col(timestamp_with_time_zone_null(Flags::ResolvedAt))
                    .col(timestamp_with_time_zone(Flags::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_flags_status_created")
                    .table(Flags::Table)
                    .col(Flags::Status)
                    .col(Flags::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserBans::Table)
                    .if_not_exists()
                    .col(string_len(UserBans::UserId, 64).primary_key())
                    .col(text(UserBans::Reason))
                    .col(timestamp_with_time_zone_null(UserBans::Until))
                    .col(string_len(UserBans::BannedBy, 64))
                    .col(timestamp_with_time_zone(UserBans::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AdminAudit::Table)
                    .if_not_exists()
                    .col(uuid(AdminAudit::Id).primary_key())
                    .col(string_len(AdminAudit::AdminId, 64))
                    .col(string_len(AdminAudit::Action, 64))
                    .col(string_len(AdminAudit::TargetType, 32))
                    .col(string_len(AdminAudit::TargetId, 128))
                    .col(json_null(AdminAudit::Details))
                    .col(timestamp_with_time_zone(AdminAudit::CreatedAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // The analytics aggregate messages and conversations by time: these
        // let a date range be read from the index alone.
        for sql in [
            "CREATE INDEX IF NOT EXISTS idx_admin_audit_created ON admin_audit (created_at)",
            "CREATE INDEX IF NOT EXISTS idx_messages_created_stats ON messages (created_at, message_type, sender_id, conversation_id)",
            "CREATE INDEX IF NOT EXISTS idx_conversations_created ON conversations (created_at)",
            "CREATE INDEX IF NOT EXISTS idx_payment_orders_updated ON payment_orders (updated_at)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Flags::Table.into_iden(), UserBans::Table.into_iden(), AdminAudit::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    OriginalMessage,
    Moderation,
}

#[derive(DeriveIden)]
enum Flags {
    Table,
    Id,
    ReporterId,
    TargetType,
    MessageId,
    TargetUserId,
    ConversationId,
    Reason,
    Note,
    Status,
    OpenKey,
    Resolution,
    ResolutionNote,
    ResolvedBy,
    ResolvedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserBans {
    Table,
    UserId,
    Reason,
    Until,
    BannedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AdminAudit {
    Table,
    Id,
    AdminId,
    Action,
    TargetType,
    TargetId,
    Details,
    CreatedAt,
}
