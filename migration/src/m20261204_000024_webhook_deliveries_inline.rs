//! One row per webhook event and receiver URL. The delivery row carries the
//! event's body (and the message it is about), so a change writes one row
//! per URL instead of an `outbox_events` row plus a delivery row, and the
//! worker reads its bodies with its claim instead of a second query.
//!
//! The index of waiting deliveries is partial (`pending` and `failed` rows
//! only, by URL and due time): a delivered or dead row leaves it, so the
//! claim reads only what is waiting however many delivered rows are kept.
//! On PostgreSQL the table keeps room in its pages (fillfactor 70) so the
//! claim's update (lease and attempt count, neither indexed) stays on its
//! page without new index entries.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [text(WebhookDeliveries::Body).default("").to_owned(), uuid_null(WebhookDeliveries::SubjectId)] {
            manager.alter_table(Table::alter().table(WebhookDeliveries::Table).add_column(column).to_owned()).await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE webhook_deliveries SET \
               body = COALESCE((SELECT e.body FROM outbox_events e WHERE e.id = webhook_deliveries.event_id), ''), \
               subject_id = (SELECT e.subject_id FROM outbox_events e WHERE e.id = webhook_deliveries.event_id)",
        )
        .await?;
        db.execute_unprepared("DROP TABLE IF EXISTS outbox_events").await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_webhook_deliveries_due").await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_webhook_deliveries_waiting ON webhook_deliveries (url, next_attempt_at) \
             WHERE status IN ('pending', 'failed')",
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("ALTER TABLE webhook_deliveries SET (fillfactor = 70)").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .create_table(
                Table::create()
                    .table(OutboxEvents::Table)
                    .if_not_exists()
                    .col(uuid(OutboxEvents::Id).primary_key())
                    .col(string_len(OutboxEvents::Kind, 64))
                    .col(uuid_null(OutboxEvents::SubjectId))
                    .col(text(OutboxEvents::Body))
                    .col(timestamp_with_time_zone(OutboxEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "INSERT INTO outbox_events (id, type, subject_id, body, created_at) \
             SELECT event_id, MIN(type), MIN(subject_id), MIN(body), MIN(created_at) FROM webhook_deliveries \
             GROUP BY event_id",
        )
        .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_webhook_deliveries_waiting").await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)",
        )
        .await?;
        for column in [WebhookDeliveries::Body, WebhookDeliveries::SubjectId] {
            manager.alter_table(Table::alter().table(WebhookDeliveries::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Body,
    SubjectId,
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    #[sea_orm(iden = "type")]
    Kind,
    SubjectId,
    Body,
    CreatedAt,
}
