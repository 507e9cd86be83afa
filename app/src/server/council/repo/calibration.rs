//! The calibration's one row.

use crate::server::council::entities::council_calibration as row;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// The stored weights and how many outcomes they saw (none: never refitted).
pub async fn load(db: &impl ConnectionTrait) -> Result<Option<row::Model>, DbErr> {
    row::Entity::find_by_id(1).one(db).await
}

/// Stores refitted weights (`weights` is their JSON), unless the stored ones saw more outcomes.
pub async fn save(
    db: &impl ConnectionTrait,
    weights: String,
    samples: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    row::Entity::insert(row::ActiveModel {
        id: Set(1),
        weights: Set(weights),
        samples: Set(samples),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(row::Column::Id)
            .update_columns([
                row::Column::Weights,
                row::Column::Samples,
                row::Column::UpdatedAt,
            ])
            // Two instances refitting at once: a fit that saw fewer outcomes never overwrites
            // one that saw more.
            .action_and_where(
                Expr::col((row::Entity, row::Column::Samples)).lte(Expr::cust("excluded.samples")),
            )
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}
