//! `council_calibration` table: one row (`id` 1) with the calibration's weights (a JSON array
//! of four numbers) as last refitted from recorded outcomes.

use sea_orm::entity::prelude::*;

/// The calibration.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "council_calibration")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub weights: String,
    pub samples: i32,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
