//! Stored notifications (every `notification` event is a row), and the
//! outbox of outgoing webhook events with one delivery per receiver URL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .if_not_exists()
                    .col(uuid(Notifications::Id).primary_key())
                    .col(string_len(Notifications::UserId, 64))
                    .col(string_len(Notifications::Kind, 64))
                    .col(text(Notifications::Title))
                    .col(text(Notifications::Body))
                    .col(json(Notifications::Data))
                    .col(uuid_null(Notifications::ConversationId))
                    .col(boolean(Notifications::Read).default(false))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(string_len_null(Notifications::CoalesceKey, 100))
                    .col(integer(Notifications::Count).default(1))
                    .col(string_len_null(Notifications::Source, 64))
                    .col(string_len_null(Notifications::IdempotencyKey, 128))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone(Notifications::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            ("idx_notifications_coalesce", vec![Notifications::UserId, Notifications::CoalesceKey], true),
            ("idx_notifications_idempotency", vec![Notifications::Source, Notifications::IdempotencyKey], true),
            ("idx_notifications_user_updated", vec![Notifications::UserId, Notifications::UpdatedAt], false),
            ("idx_notifications_user_read", vec![Notifications::UserId, Notifications::Read], false),
        ] {
            let mut index = Index::create().name(name).table(Notifications::Table).if_not_exists().to_owned();
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(OutboxEvents::Table)
                    .if_not_exists()
                    .col(uuid(OutboxEvents::Id).primary_key())
                    .col(string_len(OutboxEvents::Kind, 64))
                    .col(text(OutboxEvents::Body))
                    .col(timestamp_with_time_zone(OutboxEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .if_not_exists()
                    .col(uuid(WebhookDeliveries::Id).primary_key())
                    .col(uuid(WebhookDeliveries::EventId))
                    .col(string_len(WebhookDeliveries::Kind, 64))
                    .col(text(WebhookDeliveries::Url))
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(integer(WebhookDeliveries::Attempts).default(0))
                    .col(integer_null(WebhookDeliveries::LastStatusCode))
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::LeaseUntil))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::DeliveredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in
            [Notifications::Table.into_iden(), OutboxEvents::Table.into_iden(), WebhookDeliveries::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    #[sea_orm(iden = "type")]
    Kind,
    Title,
    Body,
    Data,
    ConversationId,
    Read,
    ReadAt,
    CoalesceKey,
    Count,
    Source,
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    #[sea_orm(iden = "type")]
    Kind,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EventId,
    #[sea_orm(iden = "type")]
    Kind,
    Url,
    Status,
    Attempts,
    LastStatusCode,
    LastError,
    NextAttemptAt,
    LeaseUntil,
    CreatedAt,
    DeliveredAt,
}
