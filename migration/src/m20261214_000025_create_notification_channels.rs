//! Notifications that leave Optimus: channels (a signed webhook, a Slack-compatible incoming
//! webhook, email over SMTP) whose targets and secrets are sealed with the master key; rules
//! saying which notifications go to which channel; maintenance windows that mute a project; and
//! the outbox: one delivery per notification and channel, written in the same transaction as the
//! notification, with every attempt logged. A backup policy remembers which staleness it has
//! notified (`stale_notified`: its newest good backup's time, or `never`) so that a backup too
//! old is notified once, whichever instance sees it first.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotificationChannels {
    Table,
    Id,
    Name,
    Kind,
    Target,
    Config,
    Enabled,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationRules {
    Table,
    Id,
    ChannelId,
    ProjectId,
    Kinds,
    MinLevel,
    DedupSecs,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotificationMutes {
    Table,
    Id,
    ProjectId,
    StartsAt,
    EndsAt,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotificationDeliveries {
    Table,
    Id,
    ChannelId,
    NotificationId,
    RuleId,
    Kind,
    Level,
    Title,
    Body,
    ProjectId,
    ServiceId,
    EventAt,
    DedupKey,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    LastStatus,
    Owner,
    LeaseUntil,
    Fence,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum BackupPolicies {
    Table,
    StaleNotified,
}

#[derive(DeriveIden)]
enum NotificationAttempts {
    Table,
    Id,
    DeliveryId,
    Attempt,
    At,
    StatusCode,
    LatencyMs,
    Outcome,
    Error,
}

fn id<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn at<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn index(name: &str, table: impl IntoIden + 'static, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut i = Index::create().name(name).table(table).to_owned();
    for c in cols {
        i.col(c);
    }
    i
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use NotificationAttempts as A;
        use NotificationChannels as C;
        use NotificationDeliveries as D;
        use NotificationMutes as M;
        use NotificationRules as R;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(id(C::Id))
                    .col(ColumnDef::new(C::Name).string_len(100).not_null())
                    .col(ColumnDef::new(C::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(C::Target).string_len(300).not_null())
                    .col(ColumnDef::new(C::Config).text().not_null())
                    .col(ColumnDef::new(C::Enabled).boolean().not_null())
                    .col(ColumnDef::new(C::CreatedBy).string_len(100).null())
                    .col(at(C::CreatedAt))
                    .col(at(C::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_notification_channels_name",
                    C::Table,
                    vec![C::Name.into_iden()],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(id(R::Id))
                    .col(ColumnDef::new(R::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(R::ProjectId).big_integer().null())
                    .col(ColumnDef::new(R::Kinds).text().not_null())
                    .col(ColumnDef::new(R::MinLevel).string_len(16).not_null())
                    .col(ColumnDef::new(R::DedupSecs).big_integer().not_null())
                    .col(ColumnDef::new(R::CreatedBy).string_len(100).null())
                    .col(at(R::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(id(M::Id))
                    .col(ColumnDef::new(M::ProjectId).big_integer().null())
                    .col(at(M::StartsAt))
                    .col(at(M::EndsAt))
                    .col(ColumnDef::new(M::Reason).string_len(500).not_null())
                    .col(ColumnDef::new(M::CreatedBy).string_len(100).null())
                    .col(at(M::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(id(D::Id))
                    .col(ColumnDef::new(D::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(D::NotificationId).big_integer().null())
                    .col(ColumnDef::new(D::RuleId).big_integer().null())
                    .col(ColumnDef::new(D::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(D::Level).string_len(16).not_null())
                    .col(ColumnDef::new(D::Title).string_len(200).not_null())
                    .col(ColumnDef::new(D::Body).text().not_null())
                    .col(ColumnDef::new(D::ProjectId).big_integer().null())
                    .col(ColumnDef::new(D::ServiceId).big_integer().null())
                    .col(at(D::EventAt))
                    .col(ColumnDef::new(D::DedupKey).string_len(64).not_null())
                    .col(ColumnDef::new(D::Status).string_len(16).not_null())
                    .col(ColumnDef::new(D::Attempts).integer().not_null().default(0))
                    .col(
                        ColumnDef::new(D::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(D::LastError).text().null())
                    .col(ColumnDef::new(D::LastStatus).integer().null())
                    .col(ColumnDef::new(D::Owner).string_len(100).null())
                    .col(
                        ColumnDef::new(D::LeaseUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(D::Fence).big_integer().not_null().default(0))
                    .col(at(D::CreatedAt))
                    .col(
                        ColumnDef::new(D::DeliveredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_notification_deliveries_due",
                D::Table,
                vec![D::Status.into_iden(), D::NextAttemptAt.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_notification_deliveries_dedup",
                D::Table,
                vec![
                    D::ChannelId.into_iden(),
                    D::DedupKey.into_iden(),
                    D::CreatedAt.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(id(A::Id))
                    .col(ColumnDef::new(A::DeliveryId).big_integer().not_null())
                    .col(ColumnDef::new(A::Attempt).integer().not_null())
                    .col(at(A::At))
                    .col(ColumnDef::new(A::StatusCode).integer().null())
                    .col(ColumnDef::new(A::LatencyMs).big_integer().not_null())
                    .col(ColumnDef::new(A::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(A::Error).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_notification_attempts_delivery",
                A::Table,
                vec![A::DeliveryId.into_iden()],
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BackupPolicies::Table)
                    .add_column(
                        ColumnDef::new(BackupPolicies::StaleNotified)
                            .string_len(64)
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BackupPolicies::Table)
                    .drop_column(BackupPolicies::StaleNotified)
                    .to_owned(),
            )
            .await?;
        for t in [
            NotificationAttempts::Table.into_iden(),
            NotificationDeliveries::Table.into_iden(),
            NotificationMutes::Table.into_iden(),
            NotificationRules::Table.into_iden(),
            NotificationChannels::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
