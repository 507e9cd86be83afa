//! The calibration's one row.

use crate::server::council::entities::council_calibration as row;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// The stored weights and how many outcomes they saw (none: never refitted).
pub async fn load(db: &impl ConnectionTrait) -> Result<Option<row::Model>, DbErr> {
    row::Entity::find_by_id(1).one(db).await
}

/// Stores refitted weights (`weights` is their JSON).
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
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}
