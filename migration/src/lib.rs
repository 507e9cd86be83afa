//! Optimus database migrations. One reversible file per change.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_accounts;
mod m20261124_000002_create_catalog;
mod m20261124_000003_add_project_curation;
mod m20261124_000004_add_project_services;
mod m20261124_000005_create_project_activity;
mod m20261124_000006_create_project_dependencies;
mod m20261124_000007_create_runtime;
mod m20261124_000008_create_environments;
mod m20261124_000009_create_samples;
mod m20261201_000010_add_run_limits;
mod m20261201_000011_create_notifications;
mod m20261201_000012_create_council;
mod m20261205_000013_add_run_log_trouble;
mod m20261205_000014_add_instances;
mod m20261206_000015_create_pipelines;
mod m20261206_000016_create_pipeline_runs;
mod m20261206_000017_create_pipeline_artifacts;
mod m20261206_000018_create_pipeline_triggers;
mod m20261206_000019_create_deployments;
mod m20261207_000020_create_backups;
mod m20261208_000021_add_backup_databases;
mod m20261208_000022_create_self_backups;
mod m20261209_000023_add_snapshot_kind;
mod m20261210_000024_add_policy_remote;
mod m20261214_000025_create_notification_channels;
mod m20261215_000026_create_github;
mod m20261216_000027_create_council_calibration;
mod m20261217_000028_add_project_list_index;
mod m20261218_000029_add_recall_indexes;
mod m20261219_000030_add_catalog_version;

/// Runs Optimus's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_accounts::Migration),
            Box::new(m20261124_000002_create_catalog::Migration),
            Box::new(m20261124_000003_add_project_curation::Migration),
            Box::new(m20261124_000004_add_project_services::Migration),
            Box::new(m20261124_000005_create_project_activity::Migration),
            Box::new(m20261124_000006_create_project_dependencies::Migration),
            Box::new(m20261124_000007_create_runtime::Migration),
            Box::new(m20261124_000008_create_environments::Migration),
            Box::new(m20261124_000009_create_samples::Migration),
            Box::new(m20261201_000010_add_run_limits::Migration),
            Box::new(m20261201_000011_create_notifications::Migration),
            Box::new(m20261201_000012_create_council::Migration),
            Box::new(m20261205_000013_add_run_log_trouble::Migration),
            Box::new(m20261205_000014_add_instances::Migration),
            Box::new(m20261206_000015_create_pipelines::Migration),
            Box::new(m20261206_000016_create_pipeline_runs::Migration),
            Box::new(m20261206_000017_create_pipeline_artifacts::Migration),
            Box::new(m20261206_000018_create_pipeline_triggers::Migration),
            Box::new(m20261206_000019_create_deployments::Migration),
            Box::new(m20261207_000020_create_backups::Migration),
            Box::new(m20261208_000021_add_backup_databases::Migration),
            Box::new(m20261208_000022_create_self_backups::Migration),
            Box::new(m20261209_000023_add_snapshot_kind::Migration),
            Box::new(m20261210_000024_add_policy_remote::Migration),
            Box::new(m20261214_000025_create_notification_channels::Migration),
            Box::new(m20261215_000026_create_github::Migration),
            Box::new(m20261216_000027_create_council_calibration::Migration),
            Box::new(m20261217_000028_add_project_list_index::Migration),
            Box::new(m20261218_000029_add_recall_indexes::Migration),
            Box::new(m20261219_000030_add_catalog_version::Migration),
        ]
    }
}
