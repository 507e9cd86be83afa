//! `/api/v1/backups/*`: backup policies, backing up, verifying and restoring, snapshots.

use crate::models::backups::{
    CreatePolicyRequest, FilesRequest, JobInfo, JobRequest, PoliciesRequest, PolicyInfo,
    PolicyRequest, RepositoryInfo, RestoreDatabaseRequest, RestoreRequest, SelfBackupRequest,
    SelfBackupRun, SelfBackupsInfo, SnapshotEntry, SnapshotInfo, SnapshotsRequest,
    UpdatePolicyRequest, VerifyRequest,
};

endpoint! {
    /// Add a backup policy to a project
    ///
    /// What of the project's folder is backed up (`paths`, `excludes`; `.gitignore` files apply),
    /// when (`schedule`: cron and time zone), and which snapshots are kept (`keep`, with
    /// `restic forget`'s meaning). Its restic repository is made under the data dir with a
    /// random password, sealed with the master key.
    "backups/create_policy", requires EditBackups, |state, caller|
    pub async fn create_backup_policy(request: CreatePolicyRequest) -> PolicyInfo {
        use crate::server::backups;
        Ok(backups::policies::create(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Change a backup policy
    "backups/update_policy", requires EditBackups, |state, caller|
    pub async fn update_backup_policy(request: UpdatePolicyRequest) -> PolicyInfo {
        use crate::server::backups;
        Ok(backups::policies::update(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Remove a backup policy
    ///
    /// Removes the policy and its records. Its repository stays on disk (it holds backups);
    /// the audit entry names its folder.
    "backups/delete_policy", requires EditBackups, |state, caller|
    pub async fn delete_backup_policy(request: PolicyRequest) -> () {
        use crate::server::backups;
        Ok(backups::policies::delete(&state, &caller, request.policy_id).await?)
    }
}

endpoint! {
    /// One backup policy with its last good backup
    "backups/get_policy", requires ReadBackups, |state, caller|
    pub async fn get_backup_policy(request: PolicyRequest) -> PolicyInfo {
        use crate::server::backups;
        Ok(backups::policies::get(&state, &caller, request.policy_id).await?)
    }
}

endpoint! {
    /// A project's backup policies (every project's without `project_id`)
    "backups/policies", requires ReadBackups, |state, caller|
    pub async fn list_backup_policies(request: PoliciesRequest) -> Vec<PolicyInfo> {
        use crate::server::backups;
        Ok(backups::policies::list(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// Back up now
    ///
    /// Queues a backup of the policy: then a structure check of the repository and retention.
    /// A backup that fails is recorded as failed with its reason and is never a snapshot.
    /// Follow it with `backups/job`.
    "backups/run", requires RunBackups, |state, caller|
    pub async fn run_backup(request: PolicyRequest) -> JobInfo {
        use crate::server::backups;
        Ok(backups::jobs::run(&state, &caller, request.policy_id).await?)
    }
}

endpoint! {
    /// Verify a policy's repository
    ///
    /// `structure` (indexes, pack headers, trees), `subset` (also reads `subset_percent` of
    /// the data packs) or `full` (reads every data pack). The result is recorded on the
    /// policy's snapshots.
    "backups/verify", requires RunBackups, |state, caller|
    pub async fn verify_backups(request: VerifyRequest) -> JobInfo {
        use crate::server::backups;
        Ok(backups::jobs::verify(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Restore a snapshot to a new path
    ///
    /// Restores the snapshot (or one file or folder of it, `path`) into `target_path`, which
    /// must not exist or be an empty folder; every file written is read back and compared with
    /// the snapshot. `dry_run` lists what would be written.
    "backups/restore", requires RestoreBackups, |state, caller|
    pub async fn restore_backup(request: RestoreRequest) -> JobInfo {
        use crate::server::backups;
        Ok(backups::jobs::restore(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Restore a database dump into a new database or file
    ///
    /// A PostgreSQL dump goes into a new database (`target_database`, created by Optimus on the
    /// server it was dumped from; dropped again if the restore fails), in one transaction that
    /// stops at the first error. An SQLite dump goes to a new file (`target_path`), checked
    /// with SQLite's `integrity_check`.
    "backups/restore_database", requires RestoreBackups, |state, caller|
    pub async fn restore_backup_database(request: RestoreDatabaseRequest) -> JobInfo {
        use crate::server::backups;
        Ok(backups::jobs::restore_database(&state, &caller, request).await?)
    }
}

endpoint! {
    /// One backup job, with its progress and result
    "backups/job", requires ReadBackups, |state, caller|
    pub async fn get_backup_job(request: JobRequest) -> JobInfo {
        use crate::server::backups;
        Ok(backups::jobs::get(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// A policy's jobs, newest first
    "backups/jobs", requires ReadBackups, |state, caller|
    pub async fn list_backup_jobs(request: PolicyRequest) -> Vec<JobInfo> {
        use crate::server::backups;
        Ok(backups::jobs::list(&state, &caller, request.policy_id).await?)
    }
}

endpoint! {
    /// A policy's snapshots, newest first
    ///
    /// Good ones (`status: good`, restorable) and failed backups (`status: failed`, with
    /// `reason`) unless `good_only`.
    "backups/snapshots", requires ReadBackups, |state, caller|
    pub async fn list_backup_snapshots(request: SnapshotsRequest) -> Vec<SnapshotInfo> {
        use crate::server::backups;
        Ok(backups::snapshots::list(&state, &caller, request).await?)
    }
}

endpoint! {
    /// The files of one folder of a snapshot
    "backups/files", requires ReadBackups, |state, caller|
    pub async fn list_snapshot_files(request: FilesRequest) -> Vec<SnapshotEntry> {
        use crate::server::backups;
        Ok(backups::snapshots::files(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Where a policy's restic repository is, and its password (admins)
    ///
    /// So plain `restic -r <path>` with `RESTIC_PASSWORD` can open it without Optimus.
    /// Audited.
    "backups/repository", requires RevealBackupPassword, |state, caller|
    pub async fn backup_repository(request: PolicyRequest) -> RepositoryInfo {
        use crate::server::backups;
        Ok(backups::policies::repository(&state, &caller, request.policy_id).await?)
    }
}

endpoint! {
    /// Optimus's backups of itself (admins)
    ///
    /// Its own database, dumped into its self-backup repository on `self_backup_cron`: the
    /// repository, the schedule and the newest runs.
    "backups/self_backups", requires BackUpOptimus, |state, caller|
    pub async fn list_self_backups(request: SelfBackupRequest) -> SelfBackupsInfo {
        use crate::server::backups;
        let _ = request;
        Ok(backups::self_backup::list(&state, &caller).await?)
    }
}

endpoint! {
    /// Back Optimus itself up now (admins)
    ///
    /// Starts a run in the background (`status: running`); 409 while one is under way. A run
    /// that fails notifies. Audited.
    "backups/self_backup", requires BackUpOptimus, |state, caller|
    pub async fn run_self_backup(request: SelfBackupRequest) -> SelfBackupRun {
        use crate::server::backups;
        let _ = request;
        Ok(backups::self_backup::start_now(&state, &caller).await?)
    }
}
