//! The council's calibration: one row (`id` 1) with the weights of the map from the vote's own
//! confidence to the confidence it reports, refitted whenever an outcome is recorded, and how
//! many recorded outcomes the fit saw. Absent, the weights shipped with Optimus apply.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CouncilCalibration {
    Table,
    Id,
    Weights,
    Samples,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CouncilCalibration as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(ColumnDef::new(C::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(C::Weights).text().not_null())
                    .col(ColumnDef::new(C::Samples).integer().not_null())
                    .col(
                        ColumnDef::new(C::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CouncilCalibration::Table).to_owned())
            .await
    }
}
