//! Backups on real files and real repositories: a tree with binary files, symlinks,
//! permissions, an empty folder and a 200 MB file backed up and restored byte-identical;
//! rebackup of an unchanged tree; Debian's plain `restic` (installed by `scripts/services.sh`)
//! lists and restores what Optimus wrote; retention compared with `restic forget`; a flipped
//! byte found; failed backups never good.

use crate::helpers::{eventually, spawn_app, spawn_sharing, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Writes `len` bytes no compressor can shrink (xorshift), seeded by `seed`.
fn noise(path: &Path, len: usize, seed: u64) {
    use std::io::Write;
    let mut x = seed | 1;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut left = len;
    let mut buf = [0u8; 8];
    while left > 0 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf.copy_from_slice(&x.to_le_bytes());
        let n = left.min(8);
        out.write_all(&buf[..n]).expect("write");
        left -= n;
    }
}

/// The project tree: binary files, a symlink, an executable, a private file, an empty folder,
/// nested folders, a 200 MB file, and what `.gitignore` and the policy's excludes leave out.
fn tree(root: &Path, big: usize) {
    let mkdir = |p: &str| std::fs::create_dir_all(root.join(p)).expect("mkdir");
    mkdir("src/deep/deeper");
    mkdir("empty");
    mkdir("target/debug");
    std::fs::write(root.join("README.md"), "# backed up\n").expect("write");
    std::fs::write(root.join("src/main.rs"), "fn main() {}\n").expect("write");
    std::fs::write(root.join("src/deep/deeper/data.txt"), "x".repeat(10_000)).expect("write");
    noise(&root.join("src/blob.bin"), 1_000_000, 7);
    noise(&root.join("big.bin"), big, 42);
    std::fs::write(root.join("run.sh"), "#!/bin/sh\necho hi\n").expect("write");
    std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o750))
        .expect("chmod");
    std::fs::write(root.join("private.key"), "secret\n").expect("write");
    std::fs::set_permissions(
        root.join("private.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    symlink("src/main.rs", root.join("link-to-main")).expect("symlink");
    // Left out: by .gitignore, and by the policy's excludes.
    std::fs::write(root.join(".gitignore"), "target/\n").expect("write");
    std::fs::write(root.join("target/debug/app"), "built").expect("write");
    std::fs::write(root.join("debug.log"), "noise").expect("write");
}

/// Every entry under `root` (but `skip`): relative path → kind, permission bits, content
/// digest or link target. Two trees are equal when their maps are.
fn tree_hash(root: &Path, skip: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("inside")
                .display()
                .to_string();
            if skip
                .iter()
                .any(|s| rel == *s || rel.starts_with(&format!("{s}/")))
            {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            let mode = meta.permissions().mode() & 0o7777;
            let what = if meta.file_type().is_symlink() {
                format!(
                    "link {}",
                    std::fs::read_link(&path).expect("readlink").display()
                )
            } else if meta.is_dir() {
                stack.push(path.clone());
                format!("dir {mode:o}")
            } else {
                let mut h = Sha256::new();
                let mut f = std::fs::File::open(&path).expect("open");
                std::io::copy(&mut f, &mut h).expect("hash");
                format!("file {mode:o} {} {:x}", meta.len(), h.finalize())
            };
            out.insert(rel, what);
        }
    }
    out
}

pub(crate) async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post(path, body, Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body
}

/// Waits for job `id` to end; the job.
pub(crate) async fn ended(app: &TestApp, token: &str, id: &Value) -> Value {
    eventually(Duration::from_secs(120), "the backup job ends", || async {
        let j = ok(app, token, "backups/job", json!({"id": id})).await;
        matches!(j["status"].as_str(), Some("succeeded" | "failed")).then_some(j)
    })
    .await
}

/// Runs a restore (`backups/restore` with `body`) to its end; the job.
pub(crate) async fn restore_job(app: &TestApp, token: &str, body: Value) -> Value {
    let job = ok(app, token, "backups/restore", body).await;
    ended(app, token, &job["id"]).await
}

/// Runs a backup of `policy` to its end; the job.
pub(crate) async fn back_up(app: &TestApp, token: &str, policy: i64) -> Value {
    let job = ok(app, token, "backups/run", json!({"policy_id": policy})).await;
    assert_eq!(job["status"], "queued", "{job}");
    ended(app, token, &job["id"]).await
}

pub(crate) async fn project(app: &TestApp, token: &str, dir: &Path) -> i64 {
    ok(app, token, "projects/create", json!({"path": dir})).await["id"]
        .as_i64()
        .expect("project id")
}

/// Plain `restic` on `repo` with its password; (success, stdout, stderr).
pub(crate) fn restic(repo: &Value, args: &[&str]) -> (bool, String, String) {
    restic_at(
        Path::new(repo["path"].as_str().expect("path")),
        repo["password"].as_str().expect("password"),
        args,
    )
}

/// Plain `restic` on the repository at `path`; (success, stdout, stderr).
fn restic_at(path: &Path, password: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("restic")
        .args(["--no-cache", "-r"])
        .arg(path)
        .args(args)
        .env("RESTIC_PASSWORD", password)
        .output()
        .expect("Debian's restic is installed (scripts/services.sh installs it)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_tree_is_restored_byte_identical_and_plain_restic_reads_the_repository() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("proj");
    std::fs::create_dir_all(&src).expect("mkdir");
    tree(&src, 200 * 1024 * 1024);
    let project = project(&app, &owner, &src).await;
    let policy = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "excludes": ["*.log"], "keep": {"last": 10}}),
    )
    .await;
    let policy_id = policy["id"].as_i64().expect("policy id");
    assert_eq!(policy["paths"], json!(["."]));
    assert!(policy["last_good_at"].is_null());

    let first = back_up(&app, &owner, policy_id).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let result = &first["result"];
    let snapshot_id = result["snapshot_id"].as_i64().expect("snapshot id");
    let bytes = result["bytes"].as_u64().expect("bytes");
    assert!(bytes > 200 * 1024 * 1024, "{result}");
    let first_added = result["added_bytes"].as_u64().expect("added");
    assert!(first_added > 200 * 1024 * 1024, "{result}");
    // The progress reached the end of the data.
    let progress = &first["progress"];
    assert!(progress["bytes_done"].as_u64().unwrap_or(0) > 0, "{first}");

    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(snaps.as_array().map(Vec::len), Some(1), "{snaps}");
    assert_eq!(snaps[0]["id"], snapshot_id);
    assert_eq!(snaps[0]["status"], "good");
    assert_eq!(
        snaps[0]["verified"], "structure",
        "checked after the backup"
    );
    let restic_id = snaps[0]["restic_id"]
        .as_str()
        .expect("restic id")
        .to_owned();

    // Browsing: the top folder lists what was kept, not what was left out.
    let top = ok(
        &app,
        &owner,
        "backups/files",
        json!({"snapshot_id": snapshot_id}),
    )
    .await;
    let names: BTreeMap<String, String> = top
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or("").to_owned(),
                e["kind"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(names.get("src").map(String::as_str), Some("dir"), "{top}");
    assert_eq!(names.get("empty").map(String::as_str), Some("dir"), "{top}");
    assert_eq!(
        names.get("link-to-main").map(String::as_str),
        Some("symlink"),
        "{top}"
    );
    assert_eq!(
        names.get("big.bin").map(String::as_str),
        Some("file"),
        "{top}"
    );
    assert!(!names.contains_key("target"), ".gitignore applies: {top}");
    assert!(
        !names.contains_key("debug.log"),
        "the excludes apply: {top}"
    );
    let deep = ok(
        &app,
        &owner,
        "backups/files",
        json!({"snapshot_id": snapshot_id, "path": "src/deep"}),
    )
    .await;
    assert_eq!(deep[0]["path"], "src/deep/deeper", "{deep}");

    // Everything, to a new path: byte-identical, verified by reading back.
    let target = work.path().join("restored");
    let restored = restore_job(
        &app,
        &owner,
        json!({"snapshot_id": snapshot_id, "target_path": target}),
    )
    .await;
    assert_eq!(restored["status"], "succeeded", "{restored}");
    assert_eq!(restored["result"]["verified"], true, "{restored}");
    assert_eq!(
        tree_hash(&src, &["target", "debug.log"]),
        tree_hash(&target, &[]),
        "the restored tree differs from the source"
    );

    // One file, to a new path.
    let one = work.path().join("one");
    let j = restore_job(
        &app,
        &owner,
        json!({"snapshot_id": snapshot_id, "target_path": one, "path": "src/deep/deeper/data.txt"}),
    )
    .await;
    assert_eq!(j["status"], "succeeded", "{j}");
    assert_eq!(
        std::fs::read_to_string(&one).expect("restored file"),
        "x".repeat(10_000)
    );

    // A dry run lists what it would write and writes nothing.
    let dry = work.path().join("dry");
    let j = restore_job(
        &app,
        &owner,
        json!({"snapshot_id": snapshot_id, "target_path": dry, "path": "src", "dry_run": true}),
    )
    .await;
    assert_eq!(j["status"], "succeeded", "{j}");
    let changes = j["result"]["changes"].to_string();
    assert!(
        changes.contains("main.rs") && changes.contains("blob.bin"),
        "{j}"
    );
    assert!(!dry.exists(), "a dry run wrote {}", dry.display());

    // A restore never writes over what is there.
    let r = app
        .post(
            "backups/restore",
            json!({"snapshot_id": snapshot_id, "target_path": target}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("target_path"));
    let r = app
        .post(
            "backups/restore",
            json!({"snapshot_id": snapshot_id, "target_path": "relative/path"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("target_path"), "{}", r.body);
    // Nor inside Optimus's own data folder.
    let inside = app.settings.data_dir.join("restored-here");
    let r = app
        .post(
            "backups/restore",
            json!({"snapshot_id": snapshot_id, "target_path": inside}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("target_path"), "{}", r.body);

    // Unchanged tree: the second backup adds almost nothing.
    let second = back_up(&app, &owner, policy_id).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    let added = second["result"]["added_bytes"].as_u64().expect("added");
    assert!(
        added * 1000 < first_added,
        "an unchanged tree added {added} bytes (first backup {first_added})"
    );

    // Plain restic opens the repository with what an admin is shown.
    let repo = ok(
        &app,
        &owner,
        "backups/repository",
        json!({"policy_id": policy_id}),
    )
    .await;
    let (listed, out, err) = restic(&repo, &["snapshots", "--json"]);
    assert!(listed, "restic snapshots: {err}");
    let listed: Value = serde_json::from_str(&out).expect("restic's JSON");
    let ids: Vec<&str> = listed
        .as_array()
        .expect("snapshots")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{out}");
    assert!(ids.contains(&restic_id.as_str()), "{out}");
    let by_restic = work.path().join("by-restic");
    let (done, _, err) = restic(
        &repo,
        &[
            "restore",
            &restic_id,
            "--target",
            by_restic.to_str().expect("utf-8"),
        ],
    );
    assert!(done, "restic restore: {err}");
    // restic restores under the full source path.
    let inner = by_restic.join(src.strip_prefix("/").expect("absolute"));
    assert_eq!(
        tree_hash(&src, &["target", "debug.log"]),
        tree_hash(&inner, &[]),
        "plain restic restored something else"
    );
    let (checked, _, err) = restic(&repo, &["check", "--read-data"]);
    assert!(checked, "restic check --read-data: {err}");

    let p = ok(
        &app,
        &owner,
        "backups/get_policy",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(p["last_status"], "good");
    assert_eq!(p["snapshots"], 2);
    assert!(p["last_good_at"].is_string(), "{p}");
}

#[tokio::test]
async fn a_failed_backup_is_recorded_as_failed_and_the_last_good_one_stays() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("proj");
    std::fs::create_dir_all(src.join("data")).expect("mkdir");
    std::fs::write(src.join("data/rows.csv"), "1,2,3\n").expect("write");
    let project = project(&app, &owner, &src).await;
    let policy = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "paths": ["data"]}),
    )
    .await;
    let policy_id = policy["id"].as_i64().expect("policy id");
    let good = back_up(&app, &owner, policy_id).await;
    assert_eq!(good["status"], "succeeded", "{good}");
    let good_at = ok(
        &app,
        &owner,
        "backups/get_policy",
        json!({"policy_id": policy_id}),
    )
    .await["last_good_at"]
        .clone();

    // What the policy backs up is gone: the backup fails and says why.
    std::fs::rename(src.join("data"), src.join("moved")).expect("rename");
    let failed = back_up(&app, &owner, policy_id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("does not exist"), "{reason}");
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(snaps[0]["status"], "failed", "{snaps}");
    assert!(snaps[0]["restic_id"].is_null(), "{snaps}");
    assert_eq!(snaps[1]["status"], "good", "{snaps}");
    let p = ok(
        &app,
        &owner,
        "backups/get_policy",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(p["last_status"], "failed");
    assert_eq!(
        p["last_good_at"], good_at,
        "the last good backup stays what it was"
    );
    assert_eq!(p["snapshots"], 1);
    // A failed backup has nothing to restore.
    let r = app
        .post(
            "backups/restore",
            json!({"snapshot_id": snaps[0]["id"], "target_path": work.path().join("x")}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("snapshot_id"));
    // And the people are told.
    let notes = ok(&app, &owner, "notifications/list", json!({})).await;
    assert!(
        notes.to_string().contains("Backup failed"),
        "no notification of the failed backup: {notes}"
    );
}

#[tokio::test]
async fn a_flipped_byte_in_a_pack_is_found_by_a_full_verification() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("proj");
    std::fs::create_dir_all(&src).expect("mkdir");
    noise(&src.join("a.bin"), 3_000_000, 3);
    let project = project(&app, &owner, &src).await;
    let policy = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project}),
    )
    .await;
    let policy_id = policy["id"].as_i64().expect("policy id");
    assert_eq!(
        back_up(&app, &owner, policy_id).await["status"],
        "succeeded"
    );
    let clean = ok(
        &app,
        &owner,
        "backups/verify",
        json!({"policy_id": policy_id, "level": "full"}),
    )
    .await;
    let clean = ended(&app, &owner, &clean["id"]).await;
    assert_eq!(clean["status"], "succeeded", "{clean}");
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(snaps[0]["verified"], "full", "{snaps}");

    // The biggest pack holds the file's data: flip one byte in its middle.
    let repo = PathBuf::from(policy["repository"].as_str().expect("repository"));
    let mut packs: Vec<(u64, PathBuf)> = Vec::new();
    let mut stack = vec![repo.join("data")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir").flatten() {
            let m = e.metadata().expect("meta");
            if m.is_dir() {
                stack.push(e.path());
            } else {
                packs.push((m.len(), e.path()));
            }
        }
    }
    packs.sort();
    let (len, pack) = packs.pop().expect("a data pack");
    let mut bytes = std::fs::read(&pack).expect("read pack");
    let mid = usize::try_from(len / 2).expect("size");
    bytes[mid] ^= 0x01;
    // Packs are written read-only.
    std::fs::set_permissions(&pack, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::write(&pack, bytes).expect("write pack");
    let name = pack
        .file_name()
        .and_then(|n| n.to_str())
        .expect("pack name")
        .to_owned();

    let job = ok(
        &app,
        &owner,
        "backups/verify",
        json!({"policy_id": policy_id, "level": "full"}),
    )
    .await;
    let found = ended(&app, &owner, &job["id"]).await;
    assert_eq!(found["status"], "failed", "{found}");
    let reason = found["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&name[..8]),
        "the damaged pack {name} is not named: {reason}"
    );
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert!(snaps[0]["verified"].is_null(), "{snaps}");
    assert!(snaps[0]["verify_error"].is_string(), "{snaps}");
}

#[tokio::test]
async fn retention_keeps_exactly_what_restic_forget_keeps() {
    use app::models::backups::KeepRule;
    use app::server::backups::restic::{forget, Repo};
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("f"), "x").expect("write");
    let repo = work.path().join("repo");
    let password = "correct horse";
    let run = |args: &[&str]| {
        let (done, out, err) = restic_at(&repo, password, args);
        assert!(done, "restic {args:?}: {err}");
        out
    };
    run(&["init", "--repository-version", "2"]);
    // A synthetic calendar: 48 snapshots over about a year and a half, irregular.
    let base = chrono::DateTime::parse_from_rfc3339("2024-01-03T10:00:00Z").expect("date");
    let mut hours = 0i64;
    for i in 0..48i64 {
        hours += 1 + (i * 37 % 23);
        if i % 5 == 0 {
            hours += 30;
        }
        if i % 7 == 0 {
            hours += 24 * 40;
        }
        if i % 11 == 0 {
            hours += 24 * 60;
        }
        let t = base + chrono::Duration::hours(hours);
        let time = t.format("%Y-%m-%d %H:%M:%S").to_string();
        run(&[
            "backup",
            "--host",
            "h",
            "--time",
            &time,
            src.to_str().expect("utf-8"),
        ]);
    }
    let keep = KeepRule {
        last: 3,
        hourly: 5,
        daily: 7,
        weekly: 4,
        monthly: 6,
        yearly: 2,
    };
    let plan = run(&[
        "forget",
        "--dry-run",
        "--json",
        "--group-by",
        "tags",
        "--keep-last",
        "3",
        "--keep-hourly",
        "5",
        "--keep-daily",
        "7",
        "--keep-weekly",
        "4",
        "--keep-monthly",
        "6",
        "--keep-yearly",
        "2",
    ]);
    let plan: Value = serde_json::from_str(&plan).expect("restic's JSON");
    let mut restic_removes: Vec<String> = plan
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["remove"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    restic_removes.sort();
    assert!(
        !restic_removes.is_empty(),
        "the calendar should lose some: {plan}"
    );
    let r = Repo {
        path: repo.clone(),
        password: password.into(),
        remote: None,
    };
    let mut ours = tokio::task::spawn_blocking(move || forget(&r, &keep))
        .await
        .expect("join")
        .expect("forget");
    ours.sort();
    assert_eq!(
        ours, restic_removes,
        "Optimus and restic forget differently"
    );
    // What is left is what restic would have kept, and restic still reads it.
    let left: Value = serde_json::from_str(&run(&["snapshots", "--json"])).expect("json");
    assert_eq!(
        left.as_array().map(Vec::len),
        Some(48 - restic_removes.len())
    );
    run(&["check"]);
}

#[tokio::test]
async fn a_policy_that_does_not_make_sense_names_its_field_and_saves_nothing() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(work.path().join("data")).expect("mkdir");
    symlink("/etc", work.path().join("escape")).expect("symlink");
    let project = project(&app, &owner, work.path()).await;
    let refused = [
        (json!({"paths": ["../elsewhere"]}), "paths[0]"),
        (json!({"paths": ["data", "/etc"]}), "paths[1]"),
        (json!({"paths": ["absent"]}), "paths[0]"),
        (json!({"paths": ["data", "escape"]}), "paths[1]"),
        (json!({"paths": []}), "paths"),
        (json!({"excludes": ["ok", "a/**/[b"]}), "excludes[1]"),
        (json!({"schedule": {"cron": "every day"}}), "schedule.cron"),
        (
            json!({"schedule": {"cron": "0 2 * * *", "timezone": "Mars/Olympus"}}),
            "schedule.timezone",
        ),
        (json!({"name": "no spaces please"}), "name"),
    ];
    for (extra, field) in refused {
        let mut body = json!({"project_id": project});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        let r = app
            .post("backups/create_policy", body.clone(), Some(&owner))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{body}: {}", r.body);
    }
    let none = ok(
        &app,
        &owner,
        "backups/policies",
        json!({"project_id": project}),
    )
    .await;
    assert_eq!(none, json!([]), "a refused policy was saved");
    let made = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "paths": ["data"], "schedule": {"cron": "0 30 2 * * *", "timezone": "Europe/Paris"}}),
    )
    .await;
    assert_eq!(made["schedule"]["timezone"], "Europe/Paris");
    let again = app
        .post(
            "backups/create_policy",
            json!({"project_id": project}),
            Some(&owner),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    // A viewer reads but does not change, run or see the password.
    let viewer = app.user_with_role(&owner, "vic", "viewer").await;
    let id = made["id"].clone();
    let listed = app.post("backups/policies", json!({}), Some(&viewer)).await;
    assert_eq!(listed.status, StatusCode::OK);
    for (path, body) in [
        ("backups/run", json!({"policy_id": id})),
        ("backups/repository", json!({"policy_id": id})),
        ("backups/delete_policy", json!({"policy_id": id})),
    ] {
        let r = app.post(path, body, Some(&viewer)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    // Removing the policy leaves its backups on disk.
    let done = back_up(&app, &owner, id.as_i64().expect("id")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    ok(
        &app,
        &owner,
        "backups/delete_policy",
        json!({"policy_id": id}),
    )
    .await;
    let repo = made["repository"].as_str().expect("repository");
    assert!(
        Path::new(repo).join("config").exists(),
        "a removed policy's repository must stay on disk"
    );
    let r = app
        .post("backups/get_policy", json!({"policy_id": id}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test]
async fn a_schedule_queues_one_backup_per_fire_time_across_two_instances() {
    let a = spawn_app().await;
    let b = spawn_sharing(a.settings.clone()).await;
    let owner = a.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::write(work.path().join("notes.txt"), "kept").expect("write");
    let project = project(&a, &owner, work.path()).await;
    let policy = ok(
        &a,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "schedule": {"cron": "*/2 * * * * *"}, "keep": {"last": 100}}),
    )
    .await;
    let id = policy["id"].as_i64().expect("policy id");
    let next: Vec<chrono::DateTime<chrono::Utc>> = policy["next"]
        .as_array()
        .expect("next fire times")
        .iter()
        .filter_map(|t| t.as_str())
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .collect();
    assert_eq!(next.len(), 3, "{policy}");
    assert!(
        next.windows(2).all(|w| (w[1] - w[0]).num_seconds() == 2),
        "{policy}"
    );

    let made = eventually(
        Duration::from_secs(30),
        "four scheduled backups",
        || async {
            let j = ok(&b, &owner, "backups/jobs", json!({"policy_id": id})).await;
            (j.as_array().map_or(0, Vec::len) >= 4).then_some(j)
        },
    )
    .await;
    let mut times: Vec<chrono::DateTime<chrono::Utc>> = made
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            assert!(j["triggered_by"].is_null(), "{j}");
            let at = j["scheduled_for"]
                .as_str()
                .expect("a scheduled job names its fire time");
            chrono::DateTime::parse_from_rfc3339(at)
                .expect("rfc3339")
                .with_timezone(&chrono::Utc)
        })
        .collect();
    times.sort();
    let mut distinct = times.clone();
    distinct.dedup();
    assert_eq!(distinct, times, "a fire time queued two backups");
    // Every one is a fire time (a fire time finding a backup still waiting to start is
    // skipped: that backup takes its changes).
    assert!(
        times.iter().all(|t| t.timestamp() % 2 == 0),
        "not fire times: {times:?}"
    );
    // Paused: no more backups are queued.
    ok(
        &a,
        &owner,
        "backups/update_policy",
        json!({"policy_id": id, "paused": true}),
    )
    .await;
    let before = ok(&a, &owner, "backups/jobs", json!({"policy_id": id}))
        .await
        .as_array()
        .map_or(0, Vec::len);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let during = ok(&a, &owner, "backups/jobs", json!({"policy_id": id}))
        .await
        .as_array()
        .map_or(0, Vec::len);
    assert!(
        during <= before + 1,
        "a paused schedule queued {} backups",
        during - before
    );
    // The scheduled backups ran: good snapshots.
    let snaps = eventually(
        Duration::from_secs(60),
        "the scheduled backups ran",
        || async {
            let s = ok(
                &a,
                &owner,
                "backups/snapshots",
                json!({"policy_id": id, "good_only": true}),
            )
            .await;
            (s.as_array().map_or(0, Vec::len) >= 4).then_some(s)
        },
    )
    .await;
    assert!(snaps[0]["restic_id"].is_string(), "{snaps}");
}

#[tokio::test]
async fn a_job_whose_instance_died_is_failed_and_its_backup_recorded_failed() {
    use app::server::backups::repo::jobs::queued_row;
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::write(work.path().join("f"), "x").expect("write");
    let project = project(&app, &owner, work.path()).await;
    let policy = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project}),
    )
    .await;
    let policy_id = policy["id"].as_i64().expect("policy id");
    // A backup another instance claimed, then died holding: its lease ran out a minute ago.
    let past = chrono::Utc::now() - chrono::Duration::seconds(60);
    let mut row = queued_row(
        (policy_id, project),
        "backup",
        "{}".into(),
        None,
        "gone:1".into(),
        past,
    );
    row.status = Set("running".into());
    row.owner = Set(Some("an-instance-that-died".into()));
    row.lease_until = Set(Some(past));
    row.fence = Set(1);
    row.started_at = Set(Some(past));
    let job = row.insert(&app.state.db).await.expect("insert the job");
    let ended = ended(&app, &owner, &json!(job.id)).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert!(
        ended["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("interrupted"),
        "{ended}"
    );
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(snaps[0]["status"], "failed", "{snaps}");
    assert!(snaps[0]["reason"]
        .as_str()
        .unwrap_or_default()
        .contains("interrupted"));
    // The policy's next backup runs as usual.
    let next = back_up(&app, &owner, policy_id).await;
    assert_eq!(next["status"], "succeeded", "{next}");
}

#[tokio::test]
async fn a_policy_changes_and_jobs_say_what_is_missing() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(work.path().join("data")).expect("mkdir");
    std::fs::write(work.path().join("data/a.txt"), "a").expect("write");
    std::fs::write(work.path().join("data/b.log"), "b").expect("write");
    let project = project(&app, &owner, work.path()).await;
    let first = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project}),
    )
    .await;
    let other = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "name": "other"}),
    )
    .await;
    let id = first["id"].clone();

    // Verifying before any backup: there is no repository yet, and none is made.
    let job = ok(&app, &owner, "backups/verify", json!({"policy_id": id})).await;
    let v = ended(&app, &owner, &job["id"]).await;
    assert_eq!(v["status"], "failed", "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no repository"),
        "{v}"
    );
    let repo = first["repository"].as_str().expect("repository");
    assert!(
        !Path::new(repo).exists(),
        "a verification made a repository"
    );
    let r = app
        .post(
            "backups/verify",
            json!({"policy_id": id, "level": "full", "subset_percent": 5}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field(), Some("subset_percent"));

    // Changes: what is given replaces what was there; a taken name is 409.
    let changed = ok(
        &app,
        &owner,
        "backups/update_policy",
        json!({"policy_id": id, "name": "files", "paths": ["data"], "excludes": ["*.log"],
               "schedule": {"cron": "0 0 3 * * *"}, "keep": {"last": 1}}),
    )
    .await;
    assert_eq!(changed["name"], "files");
    assert_eq!(changed["paths"], json!(["data"]));
    assert_eq!(
        changed["next"].as_array().map(Vec::len),
        Some(3),
        "{changed}"
    );
    let taken = app
        .post(
            "backups/update_policy",
            json!({"policy_id": other["id"], "name": "files"}),
            Some(&owner),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    let both = app
        .post(
            "backups/update_policy",
            json!({"policy_id": id, "schedule": {"cron": "0 0 3 * * *"}, "unschedule": true}),
            Some(&owner),
        )
        .await;
    assert_eq!(both.field(), Some("unschedule"), "{}", both.body);
    let plain = ok(
        &app,
        &owner,
        "backups/update_policy",
        json!({"policy_id": id, "unschedule": true}),
    )
    .await;
    assert!(
        plain["schedule"].is_null() && plain["next"] == json!([]),
        "{plain}"
    );

    // The changed policy backs up only `data`, without the log.
    let done = back_up(&app, &owner, id.as_i64().expect("id")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let snapshot = done["result"]["snapshot_id"].clone();
    let files = ok(
        &app,
        &owner,
        "backups/files",
        json!({"snapshot_id": snapshot, "path": "data"}),
    )
    .await;
    let names: Vec<&str> = files
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, vec!["a.txt"], "{files}");
    let missing = app
        .post(
            "backups/files",
            json!({"snapshot_id": snapshot, "path": "nowhere"}),
            Some(&owner),
        )
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
    assert_eq!(missing.field(), Some("path"));
    let jobs = ok(&app, &owner, "backups/jobs", json!({"policy_id": id})).await;
    assert_eq!(jobs.as_array().map(Vec::len), Some(2), "{jobs}");
    assert_eq!(jobs[0]["kind"], "backup");
    assert_eq!(jobs[1]["kind"], "verify");
    let all = ok(&app, &owner, "backups/policies", json!({})).await;
    assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");

    // Its repository gone (an unmounted disk): the next backup fails, and makes no new one.
    let folder = PathBuf::from(plain["repository"].as_str().expect("repository"));
    assert!(folder.join("config").is_file(), "{plain}");
    std::fs::remove_dir_all(&folder).expect("rm");
    let lost = back_up(&app, &owner, id.as_i64().expect("id")).await;
    assert_eq!(lost["status"], "failed", "{lost}");
    assert!(
        lost["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no repository"),
        "{lost}"
    );
    assert!(
        !folder.exists(),
        "an empty repository replaced the lost one"
    );
}

/// A folder too deep to open by its path (past `PATH_MAX`, which even root cannot open): the
/// backup keeps everything else, stays good, and counts and names what it could not read.
#[tokio::test]
async fn a_backup_names_what_it_could_not_read_and_keeps_the_rest() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("proj");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("kept.txt"), "kept\n").expect("write");
    // 24 folders of 200 characters: made one step at a time from inside the last.
    let name = "d".repeat(200);
    let script = format!(
        "set -e; mkdir deep; cd deep; for i in $(seq 24); do mkdir {name}; cd {name}; done; echo lost > lost.txt"
    );
    // bash, not dash: dash's `cd` refuses a folder whose whole path is too long.
    let made = Command::new("bash")
        .args(["-c", &script])
        .current_dir(&src)
        .status()
        .expect("sh");
    assert!(made.success(), "the deep folders were not made");
    let project = project(&app, &owner, &src).await;
    let policy_id = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project}),
    )
    .await["id"]
        .as_i64()
        .expect("policy id");
    let job = back_up(&app, &owner, policy_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let result = &job["result"];
    assert!(result["unreadable"].as_u64().unwrap_or(0) >= 1, "{result}");
    let named = result["unreadable_paths"].to_string();
    assert!(
        named.contains(&name),
        "the unreadable path is named: {result}"
    );
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(snaps[0]["status"], "good", "{snaps}");
    assert!(
        snaps[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("could not be read"),
        "{snaps}"
    );
    let top = ok(
        &app,
        &owner,
        "backups/files",
        json!({"snapshot_id": snaps[0]["id"]}),
    )
    .await;
    assert!(top.to_string().contains("kept.txt"), "{top}");
    let told = ok(&app, &owner, "notifications/list", json!({})).await;
    assert!(told.to_string().contains("Backup incomplete"), "{told}");
}
