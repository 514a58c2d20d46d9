//! Analytics rollups: figures kept per day by a background aggregator so a
//! report over a year reads 366 rows instead of every message.
//!
//! - `analytics_days`: per UTC day, message counts by type and hour (JSON),
//!   the day's user-message senders (a Roaring bitmap of sender numbers) and
//!   its reply gaps (the buckets of an HdrHistogram as JSON pairs
//!   `[milliseconds, count]`).
//! - `analytics_senders`: a small number per sender, for the bitmaps.
//! - `analytics_last_replies`: per conversation, the last user message the
//!   aggregator has seen (sender, time), so a gap spanning two batches counts.
//! - `analytics_watermark`: one row; every message created at or before
//!   `through` is in the rollups, and the next sender number to hand out.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table(AnalyticsDays::Table)
                .if_not_exists()
                .col(string_len(AnalyticsDays::Day, 10).primary_key())
                .col(text(AnalyticsDays::Counts))
                .col(binary(AnalyticsDays::Senders))
                .col(text(AnalyticsDays::ReplyGaps))
                .to_owned(),
            Table::create()
                .table(AnalyticsSenders::Table)
                .if_not_exists()
                .col(string_len(AnalyticsSenders::UserId, 64).primary_key())
                .col(integer(AnalyticsSenders::N))
                .to_owned(),
            Table::create()
                .table(AnalyticsLastReplies::Table)
                .if_not_exists()
                .col(binary(AnalyticsLastReplies::ConversationKey).primary_key())
                .col(string_len(AnalyticsLastReplies::SenderId, 64))
                .col(timestamp_with_time_zone(AnalyticsLastReplies::At))
                .to_owned(),
            Table::create()
                .table(AnalyticsWatermark::Table)
                .if_not_exists()
                .col(integer(AnalyticsWatermark::Id).primary_key())
                .col(timestamp_with_time_zone_null(AnalyticsWatermark::Through))
                .col(integer(AnalyticsWatermark::NextSender))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AnalyticsWatermark::Table)
                    .columns([AnalyticsWatermark::Id, AnalyticsWatermark::NextSender])
                    .values_panic([1.into(), 0.into()])
                    .on_conflict(OnConflict::column(AnalyticsWatermark::Id).do_nothing().to_owned())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AnalyticsDays::Table.into_iden(),
            AnalyticsSenders::Table.into_iden(),
            AnalyticsLastReplies::Table.into_iden(),
            AnalyticsWatermark::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).if_exists().to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AnalyticsDays {
    Table,
    Day,
    Counts,
    Senders,
    ReplyGaps,
}

#[derive(DeriveIden)]
enum AnalyticsSenders {
    Table,
    UserId,
    N,
}

#[derive(DeriveIden)]
enum AnalyticsLastReplies {
    Table,
    ConversationKey,
    SenderId,
    At,
}

#[derive(DeriveIden)]
enum AnalyticsWatermark {
    Table,
    Id,
    Through,
    NextSender,
}
