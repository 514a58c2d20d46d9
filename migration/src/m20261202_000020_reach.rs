//! Reaching users who are not connected: registered devices for push,
//! each user's email and push preferences, when an unread notification
//! started waiting for an email, and which node is sending which email.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Devices::Table)
                    .if_not_exists()
                    .col(string_len(Devices::Token, 512).primary_key())
                    .col(string_len(Devices::UserId, 64))
                    .col(string_len(Devices::Platform, 16))
                    .col(timestamp_with_time_zone(Devices::CreatedAt))
                    .col(timestamp_with_time_zone(Devices::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_devices_user")
                    .table(Devices::Table)
                    .col(Devices::UserId)
                    .col(Devices::UpdatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserPreferences::Table)
                    .if_not_exists()
                    .col(string_len(UserPreferences::UserId, 64).primary_key())
                    .col(boolean(UserPreferences::EmailNotifications).default(true))
                    .col(boolean(UserPreferences::PushNotifications).default(true))
                    .col(timestamp_with_time_zone(UserPreferences::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Set while an unread notification waits for its email (the start of
        // its burst); cleared once emailed or read. Existing rows wait for none.
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(timestamp_with_time_zone_null(Notifications::EmailSince))
                    .to_owned(),
            )
            .await?;
        // Only rows waiting for an email are indexed: the schedule stays small.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_notifications_email_since ON notifications (email_since) \
                 WHERE email_since IS NOT NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailClaims::Table)
                    .if_not_exists()
                    .col(string_len(EmailClaims::UserId, 64))
                    .col(uuid(EmailClaims::ConversationId))
                    .col(string_len(EmailClaims::Owner, 64))
                    .col(timestamp_with_time_zone(EmailClaims::LeaseUntil))
                    .col(timestamp_with_time_zone_null(EmailClaims::SentAt))
                    .primary_key(Index::create().col(EmailClaims::UserId).col(EmailClaims::ConversationId))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Devices::Table.into_iden(), UserPreferences::Table.into_iden(), EmailClaims::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        manager.get_connection().execute_unprepared("DROP INDEX IF EXISTS idx_notifications_email_since").await?;
        manager
            .alter_table(Table::alter().table(Notifications::Table).drop_column(Notifications::EmailSince).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Token,
    UserId,
    Platform,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserPreferences {
    Table,
    UserId,
    EmailNotifications,
    PushNotifications,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    EmailSince,
}

#[derive(DeriveIden)]
enum EmailClaims {
    Table,
    UserId,
    ConversationId,
    Owner,
    LeaseUntil,
    SentAt,
}
