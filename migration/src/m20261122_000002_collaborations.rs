//! Campaigns, bids and the influencers' applications to them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .if_not_exists()
                    .col(uuid(Campaigns::Id).primary_key())
                    .col(string_len(Campaigns::BrandOwnerId, 64))
                    .col(string_len(Campaigns::Title, 200))
                    .col(text_null(Campaigns::Description))
                    .col(text_null(Campaigns::Requirements))
                    .col(big_integer(Campaigns::BudgetPaise))
                    .col(string_len(Campaigns::Status, 16))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .col(timestamp_with_time_zone(Campaigns::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Bids::Table)
                    .if_not_exists()
                    .col(uuid(Bids::Id).primary_key())
                    .col(string_len(Bids::BrandOwnerId, 64))
                    .col(string_len(Bids::Title, 200))
                    .col(text_null(Bids::Description))
                    .col(text_null(Bids::Requirements))
                    .col(big_integer_null(Bids::MinBudgetPaise))
                    .col(big_integer_null(Bids::MaxBudgetPaise))
                    .col(string_len(Bids::Status, 16))
                    .col(timestamp_with_time_zone(Bids::CreatedAt))
                    .col(timestamp_with_time_zone(Bids::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Requests::Table)
                    .if_not_exists()
                    .col(uuid(Requests::Id).primary_key())
                    .col(uuid_null(Requests::CampaignId))
                    .col(uuid_null(Requests::BidId))
                    .col(string_len(Requests::InfluencerId, 64))
                    .col(big_integer_null(Requests::ProposedAmountPaise))
                    .col(text_null(Requests::Message))
                    .col(string_len(Requests::Status, 16))
                    // One application per influencer and campaign/bid.
                    .col(string_len_uniq(Requests::SourceKey, 200))
                    .col(timestamp_with_time_zone(Requests::CreatedAt))
                    .col(timestamp_with_time_zone(Requests::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [("idx_requests_campaign", Requests::CampaignId), ("idx_requests_bid", Requests::BidId)] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(Requests::Table)
                        .col(col)
                        .col(Requests::CreatedAt)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Requests::Table.into_iden(), Bids::Table.into_iden(), Campaigns::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    BrandOwnerId,
    Title,
    Description,
    Requirements,
    BudgetPaise,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Bids {
    Table,
    Id,
    BrandOwnerId,
    Title,
    Description,
    Requirements,
    MinBudgetPaise,
    MaxBudgetPaise,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    Id,
    CampaignId,
    BidId,
    InfluencerId,
    ProposedAmountPaise,
    Message,
    Status,
    SourceKey,
    CreatedAt,
    UpdatedAt,
}
