//! GitHub in the project page: its configuration (one row: the API's base URL, the token sealed
//! with the master key, and the rate limit as GitHub last reported it), GitHub's answers kept
//! with their ETags so that asking again costs no quota when nothing changed (shared by every
//! instance), and each project's GitHub state as last fetched (gone with its project).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GithubConfig {
    Table,
    Id,
    BaseUrl,
    Token,
    RateRemaining,
    RateLimit,
    RateResetAt,
    PausedUntil,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GithubResponses {
    Table,
    Key,
    Url,
    Etag,
    Body,
    NextUrl,
    FetchedAt,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum GithubSnapshots {
    Table,
    ProjectId,
    Body,
    FetchedAt,
    NextRefreshAt,
}

fn at<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null<T: IntoIden>(c: T) -> ColumnDef {
    ColumnDef::new(c)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use GithubConfig as C;
        use GithubResponses as R;
        use GithubSnapshots as S;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(ColumnDef::new(C::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(C::BaseUrl).string_len(300).not_null())
                    .col(ColumnDef::new(C::Token).text().null())
                    .col(ColumnDef::new(C::RateRemaining).integer().null())
                    .col(ColumnDef::new(C::RateLimit).integer().null())
                    .col(at_null(C::RateResetAt))
                    .col(at_null(C::PausedUntil))
                    .col(ColumnDef::new(C::UpdatedBy).string_len(100).null())
                    .col(at(C::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(
                        ColumnDef::new(R::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(R::Url).text().not_null())
                    .col(ColumnDef::new(R::Etag).string_len(300).not_null())
                    .col(ColumnDef::new(R::Body).text().not_null())
                    .col(ColumnDef::new(R::NextUrl).text().null())
                    .col(at(R::FetchedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(
                        ColumnDef::new(S::ProjectId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(S::Body).text().not_null())
                    .col(at(S::FetchedAt))
                    .col(at(S::NextRefreshAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(S::Table, S::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            GithubSnapshots::Table.into_iden(),
            GithubResponses::Table.into_iden(),
            GithubConfig::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
