//! Schema migrations, applied in order at start-up and by `parley migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_conversations;
mod m20261122_000002_collaborations;
mod m20261122_000003_payments;
mod m20261122_000004_unread_counts;
mod m20261202_000010_notifications_webhooks;
mod m20261202_000011_time_rules;
mod m20261202_000012_lean_writes;
mod m20261202_000012_moderation;
mod m20261202_000018_message_ops;
mod m20261202_000019_conversation_settings;
mod m20261202_000020_message_search;
mod m20261202_000020_reach;
mod m20261202_000022_search_scope;
mod m20261203_000023_analytics_rollups;
mod m20261204_000024_webhook_deliveries_inline;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_conversations::Migration),
            Box::new(m20261122_000002_collaborations::Migration),
            Box::new(m20261122_000003_payments::Migration),
            Box::new(m20261122_000004_unread_counts::Migration),
            Box::new(m20261202_000010_notifications_webhooks::Migration),
            Box::new(m20261202_000011_time_rules::Migration),
            Box::new(m20261202_000012_lean_writes::Migration),
            Box::new(m20261202_000012_moderation::Migration),
            Box::new(m20261202_000018_message_ops::Migration),
            Box::new(m20261202_000019_conversation_settings::Migration),
            Box::new(m20261202_000020_reach::Migration),
            Box::new(m20261202_000020_message_search::Migration),
            Box::new(m20261202_000022_search_scope::Migration),
            Box::new(m20261203_000023_analytics_rollups::Migration),
            Box::new(m20261204_000024_webhook_deliveries_inline::Migration),
        ]
    }
}
