//! Payment gateway orders and the webhook deliveries already processed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaymentOrders::Table)
                    .if_not_exists()
                    .col(uuid(PaymentOrders::Id).primary_key())
                    .col(uuid(PaymentOrders::ConversationId))
                    .col(string_len_uniq(PaymentOrders::GatewayOrderId, 64))
                    .col(big_integer(PaymentOrders::AmountPaise))
                    .col(string_len(PaymentOrders::Currency, 8))
                    .col(string_len(PaymentOrders::Status, 16))
                    .col(string_len_null(PaymentOrders::PaymentId, 64))
                    .col(text_null(PaymentOrders::FailureReason))
                    .col(timestamp_with_time_zone(PaymentOrders::CreatedAt))
                    .col(timestamp_with_time_zone(PaymentOrders::UpdatedAt))
                    .col(timestamp_with_time_zone_null(PaymentOrders::PaidAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_payment_orders_conversation")
                    .table(PaymentOrders::Table)
                    .col(PaymentOrders::ConversationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookEvents::Table)
                    .if_not_exists()
                    .col(string_len(WebhookEvents::EventId, 128).primary_key())
                    .col(string_len(WebhookEvents::EventType, 64))
                    .col(timestamp_with_time_zone(WebhookEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [WebhookEvents::Table.into_iden(), PaymentOrders::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PaymentOrders {
    Table,
    Id,
    ConversationId,
    GatewayOrderId,
    AmountPaise,
    Currency,
    Status,
    PaymentId,
    FailureReason,
    CreatedAt,
    UpdatedAt,
    PaidAt,
}

#[derive(DeriveIden)]
enum WebhookEvents {
    Table,
    EventId,
    EventType,
    ReceivedAt,
}
