//! Resource samples of services and of the host, in tiers (raw, 1-minute, 15-minute).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ResourceSamples {
    Table,
    Id,
    ServiceId,
    Tier,
    At,
    CpuPercent,
    RssBytes,
    Threads,
    OpenFiles,
    ReadBps,
    WriteBps,
}

#[derive(DeriveIden)]
enum HostSamples {
    Table,
    Id,
    Tier,
    At,
    CpuPercent,
    Cpus,
    MemoryUsedBytes,
    MemoryTotalBytes,
    Load1m,
    NetRxBps,
    NetTxBps,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn num(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).double().not_null().to_owned()
}

fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResourceSamples::Table)
                    .col(id(ResourceSamples::Id))
                    .col(big(ResourceSamples::ServiceId))
                    .col(
                        ColumnDef::new(ResourceSamples::Tier)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ResourceSamples::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(num(ResourceSamples::CpuPercent))
                    .col(big(ResourceSamples::RssBytes))
                    .col(big(ResourceSamples::Threads))
                    .col(big(ResourceSamples::OpenFiles))
                    .col(num(ResourceSamples::ReadBps))
                    .col(num(ResourceSamples::WriteBps))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ResourceSamples::Table, ResourceSamples::ServiceId)
                            .to(Services::Table, Services::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_resource_samples_service_tier_at")
                    .table(ResourceSamples::Table)
                    .col(ResourceSamples::ServiceId)
                    .col(ResourceSamples::Tier)
                    .col(ResourceSamples::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_resource_samples_tier_at")
                    .table(ResourceSamples::Table)
                    .col(ResourceSamples::Tier)
                    .col(ResourceSamples::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HostSamples::Table)
                    .col(id(HostSamples::Id))
                    .col(ColumnDef::new(HostSamples::Tier).small_integer().not_null())
                    .col(
                        ColumnDef::new(HostSamples::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(num(HostSamples::CpuPercent))
                    .col(big(HostSamples::Cpus))
                    .col(big(HostSamples::MemoryUsedBytes))
                    .col(big(HostSamples::MemoryTotalBytes))
                    .col(num(HostSamples::Load1m))
                    .col(num(HostSamples::NetRxBps))
                    .col(num(HostSamples::NetTxBps))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_host_samples_tier_at")
                    .table(HostSamples::Table)
                    .col(HostSamples::Tier)
                    .col(HostSamples::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(HostSamples::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ResourceSamples::Table).to_owned())
            .await
    }
}
