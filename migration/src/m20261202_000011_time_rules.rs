//! Rules that run on the clock: disappearing messages (a per-conversation
//! default), daily free messages then points, and offers that expire.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(big_integer_null(Conversations::MessageTtlSeconds))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(timestamp_with_time_zone_null(Conversations::OfferExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_offer_expires")
                    .table(Conversations::Table)
                    .col(Conversations::OfferExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        // Only messages that will disappear are indexed: the others cost nothing.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_messages_expires ON messages (expires_at) WHERE expires_at IS NOT NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Wallets::Table)
                    .if_not_exists()
                    .col(string_len(Wallets::UserId, 64).primary_key())
                    .col(big_integer(Wallets::Points).default(0))
                    .col(timestamp_with_time_zone(Wallets::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WalletCredits::Table)
                    .if_not_exists()
                    .col(string_len(WalletCredits::Reference, 128).primary_key())
                    .col(string_len(WalletCredits::UserId, 64))
                    .col(big_integer(WalletCredits::Points))
                    .col(string_len_null(WalletCredits::Source, 64))
                    .col(timestamp_with_time_zone(WalletCredits::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QuotaUsage::Table)
                    .if_not_exists()
                    .col(string_len(QuotaUsage::UserId, 64))
                    .col(string_len(QuotaUsage::Day, 10))
                    .col(integer(QuotaUsage::Used).default(0))
                    .primary_key(Index::create().col(QuotaUsage::UserId).col(QuotaUsage::Day))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Wallets::Table.into_iden(), WalletCredits::Table.into_iden(), QuotaUsage::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    MessageTtlSeconds,
    OfferExpiresAt,
}

#[derive(DeriveIden)]
enum Wallets {
    Table,
    UserId,
    Points,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WalletCredits {
    Table,
    Reference,
    UserId,
    Points,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QuotaUsage {
    Table,
    UserId,
    Day,
    Used,
}
