//! The Council of Minds: personas, deliberations and their turns, memories (with full-text
//! search: a generated `tsvector` on PostgreSQL, an FTS5 table on SQLite), and the knowledge
//! graph (nodes and typed edges with validity intervals).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CouncilPersonas {
    Table,
    Id,
    Key,
    Name,
    Role,
    Domains,
    Stance,
    Technical,
    Model,
    Builtin,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CouncilDeliberations {
    Table,
    Id,
    Question,
    ProjectId,
    Facts,
    Options,
    Status,
    Engine,
    Evidence,
    Consensus,
    AskedBy,
    CreatedAt,
    FinishedAt,
    Outcome,
    OutcomeNote,
    OutcomeAt,
}

#[derive(DeriveIden)]
enum CouncilTurns {
    Table,
    Id,
    DeliberationId,
    Persona,
    Round,
    Choice,
    Confidence,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CouncilMemories {
    Table,
    Id,
    Kind,
    DeliberationId,
    ProjectId,
    Persona,
    Title,
    Content,
    Importance,
    Pinned,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum KgNodes {
    Table,
    Id,
    Kind,
    Key,
    Label,
    Props,
    CreatedAt,
}

#[derive(DeriveIden)]
enum KgEdges {
    Table,
    Id,
    Src,
    Dst,
    Kind,
    Weight,
    ValidFrom,
    ValidTo,
    Source,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn at(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().to_owned()
}

fn index(
    name: &str,
    table: impl IntoIden + 'static,
    cols: &[&str],
    unique: bool,
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CouncilPersonas::Table)
                    .col(id(CouncilPersonas::Id))
                    .col(
                        ColumnDef::new(CouncilPersonas::Key)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilPersonas::Name)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilPersonas::Role)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(ColumnDef::new(CouncilPersonas::Domains).text().not_null())
                    .col(
                        ColumnDef::new(CouncilPersonas::Stance)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilPersonas::Technical)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilPersonas::Model)
                            .string_len(128)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CouncilPersonas::Builtin)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilPersonas::Enabled)
                            .boolean()
                            .not_null(),
                    )
                    .col(at(CouncilPersonas::CreatedAt).not_null())
                    .col(at(CouncilPersonas::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_council_personas_key",
                CouncilPersonas::Table,
                &["key"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CouncilDeliberations::Table)
                    .col(id(CouncilDeliberations::Id))
                    .col(
                        ColumnDef::new(CouncilDeliberations::Question)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::ProjectId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::Facts)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::Options)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::Engine)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::Evidence)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::Consensus)
                            .text()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::AskedBy)
                            .string_len(64)
                            .null(),
                    )
                    .col(at(CouncilDeliberations::CreatedAt).not_null())
                    .col(at(CouncilDeliberations::FinishedAt).null())
                    .col(
                        ColumnDef::new(CouncilDeliberations::Outcome)
                            .string_len(64)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CouncilDeliberations::OutcomeNote)
                            .text()
                            .null(),
                    )
                    .col(at(CouncilDeliberations::OutcomeAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_council_deliberations_project",
                CouncilDeliberations::Table,
                &["project_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CouncilTurns::Table)
                    .col(id(CouncilTurns::Id))
                    .col(
                        ColumnDef::new(CouncilTurns::DeliberationId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilTurns::Persona)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilTurns::Round)
                            .small_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CouncilTurns::Choice).string_len(64).null())
                    .col(ColumnDef::new(CouncilTurns::Confidence).double().not_null())
                    .col(ColumnDef::new(CouncilTurns::Body).text().not_null())
                    .col(at(CouncilTurns::CreatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(CouncilTurns::Table, CouncilTurns::DeliberationId)
                            .to(CouncilDeliberations::Table, CouncilDeliberations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_council_turns_deliberation",
                CouncilTurns::Table,
                &["deliberation_id", "id"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_council_turns_persona",
                CouncilTurns::Table,
                &["persona"],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CouncilMemories::Table)
                    .col(id(CouncilMemories::Id))
                    .col(
                        ColumnDef::new(CouncilMemories::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CouncilMemories::DeliberationId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CouncilMemories::ProjectId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CouncilMemories::Persona)
                            .string_len(32)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CouncilMemories::Title)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(ColumnDef::new(CouncilMemories::Content).text().not_null())
                    .col(
                        ColumnDef::new(CouncilMemories::Importance)
                            .double()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CouncilMemories::Pinned).boolean().not_null())
                    .col(at(CouncilMemories::CreatedAt).not_null())
                    .col(at(CouncilMemories::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_council_memories_project",
                CouncilMemories::Table,
                &["project_id", "id"],
                false,
            ))
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE council_memories ADD COLUMN search tsvector \
                     GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || content)) STORED",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX idx_council_memories_search ON council_memories USING GIN (search)",
                )
                .await?;
            }
            _ => {
                // An external-content FTS5 index kept in step by triggers.
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE council_memories_fts USING fts5(title, content, \
                     content='council_memories', content_rowid='id', tokenize='porter unicode61')",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER council_memories_ai AFTER INSERT ON council_memories BEGIN \
                     INSERT INTO council_memories_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER council_memories_ad AFTER DELETE ON council_memories BEGIN \
                     INSERT INTO council_memories_fts(council_memories_fts, rowid, title, content) \
                     VALUES ('delete', old.id, old.title, old.content); END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER council_memories_au AFTER UPDATE ON council_memories BEGIN \
                     INSERT INTO council_memories_fts(council_memories_fts, rowid, title, content) \
                     VALUES ('delete', old.id, old.title, old.content); \
                     INSERT INTO council_memories_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
                )
                .await?;
            }
        }
        manager
            .create_table(
                Table::create()
                    .table(KgNodes::Table)
                    .col(id(KgNodes::Id))
                    .col(ColumnDef::new(KgNodes::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(KgNodes::Key).string_len(300).not_null())
                    .col(ColumnDef::new(KgNodes::Label).string_len(300).not_null())
                    .col(ColumnDef::new(KgNodes::Props).text().not_null())
                    .col(at(KgNodes::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_kg_nodes_identity",
                KgNodes::Table,
                &["kind", "key"],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KgEdges::Table)
                    .col(id(KgEdges::Id))
                    .col(ColumnDef::new(KgEdges::Src).big_integer().not_null())
                    .col(ColumnDef::new(KgEdges::Dst).big_integer().not_null())
                    .col(ColumnDef::new(KgEdges::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(KgEdges::Weight).double().not_null())
                    .col(at(KgEdges::ValidFrom).not_null())
                    .col(at(KgEdges::ValidTo).null())
                    .col(ColumnDef::new(KgEdges::Source).string_len(32).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(KgEdges::Table, KgEdges::Src)
                            .to(KgNodes::Table, KgNodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(KgEdges::Table, KgEdges::Dst)
                            .to(KgNodes::Table, KgNodes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_kg_edges_src",
                KgEdges::Table,
                &["src", "valid_to"],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "idx_kg_edges_dst",
                KgEdges::Table,
                &["dst", "valid_to"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS council_memories_fts")
                .await?;
        }
        for table in [
            KgEdges::Table.into_iden(),
            KgNodes::Table.into_iden(),
            CouncilMemories::Table.into_iden(),
            CouncilTurns::Table.into_iden(),
            CouncilDeliberations::Table.into_iden(),
            CouncilPersonas::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
