//! SeaORM entity of the instances table: server-only, touched only by `instances::repo`.

pub mod instance;
