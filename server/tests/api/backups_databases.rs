//! Databases in backups, against a real PostgreSQL (the one the suite runs on, whichever
//! database Optimus itself uses) and real SQLite files: dumped with each backup into the same
//! restic repository (plain `restic` sees and dumps them), restored into a new database with
//! the same rows; a dump that fails fails the whole backup and leaves no snapshot behind.

use crate::backups::{back_up, ended, ok, project, restic};
use crate::helpers::spawn_app;
use reqwest::StatusCode;
use sea_orm::sqlx::{self, Connection, PgConnection};
use serde_json::{json, Value};
use std::path::Path;

/// The PostgreSQL server the suite uses: `postgres://postgres@127.0.0.1:5432` unless
/// `OPTIMUS_TEST_DATABASE_URL` names another.
fn server() -> url::Url {
    let raw = std::env::var("OPTIMUS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    url::Url::parse(&raw).expect("a PostgreSQL URL")
}

fn url_of(db: &str) -> String {
    let mut u = server();
    u.set_path(&format!("/{db}"));
    u.to_string()
}

async fn admin(sql: &str) {
    let mut c = PgConnection::connect(&url_of("postgres"))
        .await
        .expect("the suite's PostgreSQL answers");
    sqlx::query(sql).execute(&mut c).await.expect(sql);
}

/// Per table of database `db`: its rows and a digest of them all.
async fn rows(db: &str) -> Vec<(String, i64, String)> {
    let mut c = PgConnection::connect(&url_of(db)).await.expect("connect");
    let mut out = Vec::new();
    for table in ["items", "notes"] {
        let (n, digest): (i64, Option<String>) = sqlx::query_as(&format!(
            "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
        ))
        .fetch_one(&mut c)
        .await
        .expect("count");
        out.push((table.to_owned(), n, digest.unwrap_or_default()));
    }
    out
}

/// An SQLite database at `path` (WAL, as applications keep them) with `n` rows in `t`.
pub(crate) async fn sqlite_file(path: &Path, n: i64) {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use sqlx::ConnectOptions;
    let mut c = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await
        .expect("sqlite");
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&mut c)
        .await
        .expect("create");
    sqlx::query(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) \
         INSERT INTO t (id, body) SELECT i, 'row ' || i FROM s",
    )
    .bind(n)
    .execute(&mut c)
    .await
    .expect("insert");
    // Left open while Optimus copies it would be the harder case; closing keeps the test's
    // files tidy and the WAL is still there until the next checkpoint.
    let _ = c.close().await;
}

async fn sqlite_rows(path: &Path) -> i64 {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::ConnectOptions;
    let mut c = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .expect("sqlite");
    sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&mut c)
        .await
        .expect("count")
}

fn fresh(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn databases_are_dumped_with_a_backup_and_restored_into_new_ones_with_the_same_rows() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let src_db = fresh("optimus_bk_src");
    let dst_db = fresh("optimus_bk_dst");
    admin(&format!("CREATE DATABASE {src_db}")).await;
    {
        let mut c = PgConnection::connect(&url_of(&src_db))
            .await
            .expect("connect");
        for sql in [
            "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, data bytea, at timestamptz DEFAULT now())",
            "INSERT INTO items (name, data) SELECT 'item ' || i, decode(md5(i::text), 'hex') FROM generate_series(1, 20000) i",
            "CREATE TABLE notes (id int PRIMARY KEY, body text, item int REFERENCES items(id))",
            "INSERT INTO notes SELECT i, repeat('note ', i % 50), i FROM generate_series(1, 500) i",
        ] {
            sqlx::query(sql).execute(&mut c).await.expect(sql);
        }
    }
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("proj");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("README"), "hello").expect("write");
    sqlite_file(&src.join("app.db"), 1234).await;
    let project = project(&app, &owner, &src).await;
    // A password in the URL is kept sealed and never shown (the server trusts loopback, so any
    // password opens it).
    let mut with_password = url::Url::parse(&url_of(&src_db)).expect("url");
    with_password
        .set_password(Some("s3cret-pw"))
        .expect("password");
    let policy = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "databases": [
            {"name": "main", "kind": "postgres", "url": with_password.as_str()},
            {"name": "app", "kind": "sqlite", "path": "app.db"},
        ]}),
    )
    .await;
    let policy_id = policy["id"].as_i64().expect("policy id");
    let shown = policy["databases"].to_string();
    assert!(!shown.contains("s3cret-pw"), "{shown}");
    assert!(shown.contains("****"), "{shown}");
    assert_eq!(policy["databases"][1]["path"], "app.db");

    let job = back_up(&app, &owner, policy_id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    let snap = &snaps[0];
    assert_eq!(snap["status"], "good", "{snaps}");
    let dumps = snap["dumps"].as_array().expect("dumps");
    assert_eq!(dumps.len(), 2, "{snap}");
    assert_eq!(dumps[0]["name"], "main");
    assert_eq!(dumps[0]["file"], "main.sql");
    assert!(dumps[0]["bytes"].as_u64().unwrap_or(0) > 500_000, "{snap}");
    assert_eq!(dumps[1]["kind"], "sqlite");
    // The project's folder is in the backup too, the database file with it.
    let files = ok(
        &app,
        &owner,
        "backups/files",
        json!({"snapshot_id": snap["id"]}),
    )
    .await;
    assert!(files.to_string().contains("README"), "{files}");

    // Plain restic sees each dump as its own snapshot and can read it back.
    let repo = ok(
        &app,
        &owner,
        "backups/repository",
        json!({"policy_id": policy_id}),
    )
    .await;
    let (listed, out, err) = restic(&repo, &["snapshots", "--json", "--tag", "database:main"]);
    assert!(listed, "{err}");
    let list: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{out}");
    let id = list[0]["id"].as_str().expect("id");
    assert_eq!(Some(id), dumps[0]["restic_id"].as_str());
    let (dumped, sql, err) = restic(&repo, &["dump", id, "main.sql"]);
    assert!(dumped, "{err}");
    assert!(sql.contains("CREATE TABLE public.items"), "not a dump");
    assert!(
        sql.contains("PostgreSQL database dump complete"),
        "truncated"
    );

    // Restored into a new database: the same rows.
    let job = ok(
        &app,
        &owner,
        "backups/restore_database",
        json!({"snapshot_id": snap["id"], "database": "main", "target_database": dst_db}),
    )
    .await;
    let job = ended(&app, &owner, &job["id"]).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"]["tables"], 2, "{job}");
    assert_eq!(job["result"]["database"], dst_db.as_str());
    let (before, after) = (rows(&src_db).await, rows(&dst_db).await);
    assert_eq!(before[0].1, 20000);
    assert_eq!(before, after, "the restored database differs");

    // Restoring over a database that exists is refused by the server, and nothing is dropped.
    let job = ok(
        &app,
        &owner,
        "backups/restore_database",
        json!({"snapshot_id": snap["id"], "database": "main", "target_database": dst_db}),
    )
    .await;
    let job = ended(&app, &owner, &job["id"]).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["reason"]
            .as_str()
            .unwrap_or("")
            .contains("could not be created"),
        "{job}"
    );
    assert_eq!(
        rows(&dst_db).await,
        before,
        "an existing database was touched"
    );

    // The SQLite dump becomes a new file with the same rows.
    let target = work.path().join("restored/app.db");
    let job = ok(
        &app,
        &owner,
        "backups/restore_database",
        json!({"snapshot_id": snap["id"], "database": "app", "target_path": target}),
    )
    .await;
    let job = ended(&app, &owner, &job["id"]).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"]["tables"], 1, "{job}");
    assert_eq!(sqlite_rows(&target).await, 1234);

    // What does not make sense is refused before anything is queued.
    for (body, field) in [
        (
            json!({"snapshot_id": snap["id"], "database": "nope", "target_database": "x"}),
            "database",
        ),
        (
            json!({"snapshot_id": snap["id"], "database": "main", "target_database": "Bad-Name"}),
            "target_database",
        ),
        (
            json!({"snapshot_id": snap["id"], "database": "main", "target_path": "/tmp/x.sql"}),
            "target_path",
        ),
        (
            json!({"snapshot_id": snap["id"], "database": "app", "target_path": target}),
            "target_path",
        ),
    ] {
        let r = app
            .post("backups/restore_database", body.clone(), Some(&owner))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{body}: {}", r.body);
    }

    admin(&format!("DROP DATABASE IF EXISTS {src_db}")).await;
    admin(&format!("DROP DATABASE IF EXISTS {dst_db}")).await;
}

#[tokio::test]
async fn a_dump_that_fails_fails_the_backup_and_leaves_no_snapshot() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("proj");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("README"), "hello").expect("write");
    std::fs::write(src.join("not.db"), "plain text").expect("write");
    let project = project(&app, &owner, &src).await;

    // Databases that do not make sense name their field.
    for (databases, paths, field) in [
        (
            json!([{"name": "m", "kind": "postgres"}]),
            json!(["."]),
            "databases[0].url",
        ),
        (
            json!([{"name": "m", "kind": "postgres", "url": "mysql://h/db"}]),
            json!(["."]),
            "databases[0].url",
        ),
        (
            json!([{"name": "m", "kind": "postgres", "url": "postgres://h/"}]),
            json!(["."]),
            "databases[0].url",
        ),
        (
            json!([{"name": "m", "kind": "sqlite", "path": "not.db"}]),
            json!(["."]),
            "databases[0].path",
        ),
        (
            json!([{"name": "m", "kind": "sqlite", "path": "../x.db"}]),
            json!(["."]),
            "databases[0].path",
        ),
        (
            json!([{"name": "m", "kind": "sqlite", "path": "a", "url": "postgres://h/d"}]),
            json!(["."]),
            "databases[0].url",
        ),
        (
            json!([{"name": "m", "kind": "postgres", "url": "postgres://h/d"},
                   {"name": "m", "kind": "postgres", "url": "postgres://h/e"}]),
            json!(["."]),
            "databases[1].name",
        ),
        (json!([]), json!([]), "paths"),
    ] {
        let body =
            json!({"project_id": project, "name": "bad", "databases": databases, "paths": paths});
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

    let policy = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project}),
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

    // A database that cannot be dumped: pg_dump exits non-zero.
    let missing = fresh("optimus_bk_missing");
    ok(
        &app,
        &owner,
        "backups/update_policy",
        json!({"policy_id": policy_id, "databases": [
            {"name": "main", "kind": "postgres", "url": url_of(&missing)},
        ]}),
    )
    .await;
    let failed = back_up(&app, &owner, policy_id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("database `main`") && reason.contains("pg_dump exited with status"),
        "{reason}"
    );
    assert!(reason.contains(&missing), "pg_dump's own words: {reason}");
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(snaps[0]["status"], "failed", "{snaps}");
    assert!(snaps[0]["restic_id"].is_null(), "{snaps}");
    let p = ok(
        &app,
        &owner,
        "backups/get_policy",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(
        p["last_good_at"], good_at,
        "the last good backup stays what it was"
    );
    assert_eq!(p["snapshots"], 1);
    // The repository holds the one good backup: nothing of the failed one is left as a snapshot.
    let repo = ok(
        &app,
        &owner,
        "backups/repository",
        json!({"policy_id": policy_id}),
    )
    .await;
    let (listed, out, err) = restic(&repo, &["snapshots", "--json"]);
    assert!(listed, "{err}");
    let list: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{out}");
    let notes = ok(&app, &owner, "notifications/list", json!({})).await;
    assert!(notes.to_string().contains("pg_dump"), "{notes}");
    // The council reads it, whatever the asker states.
    let asked = ok(
        &app,
        &owner,
        "council/deliberate",
        json!({"question": "Is it safe to deploy the schema change today?", "project_id": project,
               "facts": {"backup": "recent"}}),
    )
    .await;
    let evidence = asked["evidence"].to_string();
    assert!(evidence.contains("The newest backup failed"), "{evidence}");
    assert!(
        evidence.contains("recorded by its backup policies"),
        "{evidence}"
    );
    assert!(!evidence.contains("(stated)"), "{evidence}");

    // Fixed, the next backup is good again.
    admin(&format!("CREATE DATABASE {missing}")).await;
    let again = back_up(&app, &owner, policy_id).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    admin(&format!("DROP DATABASE IF EXISTS {missing}")).await;
}

/// The self-backup repository's password as the operations guide says it is made: a SHA-256
/// of `optimus self-backup`, a NUL and the master key, in hex.
fn self_backup_password(master_key: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(b"optimus self-backup\0")
        .chain_update(master_key.as_bytes())
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn optimus_backs_itself_up_and_restore_self_brings_it_back_in_a_fresh_data_dir() {
    use crate::helpers::{eventually, fresh_database, spawn_with_settings, test_settings};
    use std::process::Command;
    use std::time::Duration;
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("proj");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("README"), "hello").expect("write");
    let project = project(&app, &owner, &src).await;
    let envs = ok(
        &app,
        &owner,
        "environments/create",
        json!({"project_id": project, "name": "production"}),
    )
    .await;
    let env = envs[0]["id"].as_i64().expect("environment id");
    ok(
        &app,
        &owner,
        "environments/set_var",
        json!({"environment_id": env, "key": "API_TOKEN", "value": "sealed-value-42", "secret": true}),
    )
    .await;

    // An operator may not; an admin may.
    let operator = app.user_with_role(&owner, "olga", "operator").await;
    let r = app
        .post("backups/self_backup", json!({}), Some(&operator))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let run = ok(&app, &owner, "backups/self_backup", json!({})).await;
    assert_eq!(run["status"], "running", "{run}");
    let info = eventually(Duration::from_secs(60), "the self-backup ends", || async {
        let info = ok(&app, &owner, "backups/self_backups", json!({})).await;
        (info["runs"][0]["status"] != "running").then_some(info)
    })
    .await;
    let done = &info["runs"][0];
    assert_eq!(done["status"], "succeeded", "{info}");
    assert_eq!(done["triggered_by"], "owner");
    assert!(done["bytes"].as_i64().unwrap_or(0) > 10_000, "{info}");
    let repository = info["repository"].as_str().expect("repository").to_owned();
    let master = app
        .state
        .settings
        .master_key
        .as_ref()
        .expect("a master key")
        .expose()
        .to_owned();
    // Plain restic opens it with the password derived from the master key.
    let repo = json!({"path": repository, "password": self_backup_password(&master)});
    let (listed, out, err) = restic(&repo, &["snapshots", "--json", "--tag", "database:optimus"]);
    assert!(listed, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("json")[0]["id"],
        done["restic_id"]
    );

    // The command line runs one too, against the instance's own data dir and database.
    let cli = Command::new(env!("CARGO_BIN_EXE_optimus"))
        .arg("self-backup")
        .env("OPTIMUS_DATA_DIR", &app.settings.data_dir)
        .env("OPTIMUS_DATABASE_URL", &app.database_url)
        .env("OPTIMUS_LOG", "warn")
        .env_remove("OPTIMUS_MASTER_KEY")
        .env_remove("OPTIMUS_CONFIG")
        .output()
        .expect("run optimus self-backup");
    assert!(
        cli.status.success(),
        "{}{}",
        String::from_utf8_lossy(&cli.stdout),
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(String::from_utf8_lossy(&cli.stdout).contains("backed up: snapshot"));
    let info = ok(&app, &owner, "backups/self_backups", json!({})).await;
    assert_eq!(info["runs"][0]["status"], "succeeded", "{info}");
    assert_eq!(info["runs"][0]["triggered_by"], "optimus self-backup");

    let optimus = |data: &Path, url: &str, key: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_optimus"));
        c.args(["restore-self", "--from", &repository])
            .env("OPTIMUS_DATA_DIR", data)
            .env("OPTIMUS_DATABASE_URL", url)
            .env("OPTIMUS_LOG", "warn")
            .env_remove("OPTIMUS_MASTER_KEY")
            .env_remove("OPTIMUS_CONFIG");
        if let Some(k) = key {
            c.env("OPTIMUS_MASTER_KEY", k);
        }
        c.output().expect("run optimus restore-self")
    };
    // Without the master key that made it, nothing is restored and the message says what to do.
    let nokey = tempfile::tempdir().expect("tempdir");
    let url = fresh_database(nokey.path()).await;
    let out = optimus(nokey.path(), &url, None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("OPTIMUS_MASTER_KEY"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Restored into a fresh data dir and database.
    let fresh = tempfile::tempdir().expect("tempdir");
    let url = fresh_database(fresh.path()).await;
    let out = optimus(fresh.path(), &url, Some(&master));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("restored snapshot"));
    // Not twice over what is there now.
    let again = optimus(fresh.path(), &url, Some(&master));
    assert!(!again.status.success(), "a restore overwrote a database");

    // An instance on it: the owner signs in, the project is there, the sealed secret opens
    // (the data dir kept the master key).
    let mut settings = test_settings(fresh.path()).await;
    settings.database_url = Some(app::server::secret::Secret::new(url));
    settings.master_key = None;
    settings.jwt_secret = None;
    settings
        .ensure_data_dir_and_secrets()
        .expect("the restored data dir's secrets");
    assert_eq!(
        settings.master_key.as_ref().map(|k| k.expose().to_owned()),
        Some(master.clone())
    );
    let restored = spawn_with_settings(settings, fresh).await;
    let token = restored.login("owner").await;
    let projects = ok(&restored, &token, "projects/list", json!({})).await;
    assert!(projects.to_string().contains("proj"), "{projects}");
    let envs = ok(
        &restored,
        &token,
        "environments/list",
        json!({"project_id": project, "reveal": true}),
    )
    .await;
    assert!(envs.to_string().contains("sealed-value-42"), "{envs}");
}

#[tokio::test]
async fn two_instances_back_optimus_up_once_per_fire_time() {
    use crate::helpers::{eventually, spawn_app_with, spawn_sharing};
    use std::collections::BTreeSet;
    use std::time::Duration;
    let a = spawn_app_with(|s| s.self_backup_cron = "*/3 * * * * *".into()).await;
    let b = spawn_sharing(a.state.settings.as_ref().clone()).await;
    let owner = a.setup_owner().await;
    let info = eventually(
        Duration::from_secs(60),
        "three scheduled self-backups",
        || async {
            let info = ok(&a, &owner, "backups/self_backups", json!({})).await;
            let done = info["runs"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter(|r| r["status"] == "succeeded" && r["scheduled_for"].is_string())
                        .count()
                })
                .unwrap_or(0);
            (done >= 3).then_some(info)
        },
    )
    .await;
    assert_eq!(info["schedule"], "*/3 * * * * *");
    assert!(info["next"].is_string(), "{info}");
    let runs = info["runs"].as_array().expect("runs");
    let fired: Vec<&str> = runs
        .iter()
        .filter_map(|r| r["scheduled_for"].as_str())
        .collect();
    let distinct: BTreeSet<&str> = fired.iter().copied().collect();
    assert_eq!(distinct.len(), fired.len(), "a fire time ran twice: {info}");
    assert!(
        runs.iter().all(|r| r["triggered_by"].is_null()),
        "scheduled runs have no person: {info}"
    );
    drop(b);
}

/// A `pg_dump` (in `pg_bin_dir`) that writes the start of a dump and says it succeeded: the
/// backup fails as incomplete, and no snapshot of it is good.
#[tokio::test]
async fn a_dump_cut_short_fails_the_backup_even_when_pg_dump_says_it_succeeded() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().expect("tempdir");
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let fake = bin.join("pg_dump");
    std::fs::write(
        &fake,
        "#!/bin/sh\nprintf -- '--\\n-- PostgreSQL database dump\\n--\\n\\nCREATE TABLE public.items (\\n'\nexit 0\n",
    )
    .expect("write");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let app = crate::helpers::spawn_app_with(|s| s.pg_bin_dir = Some(bin.clone())).await;
    let owner = app.setup_owner().await;
    let src = work.path().join("proj");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("README"), "hello").expect("write");
    let project = project(&app, &owner, &src).await;
    let policy_id = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "databases": [
            {"name": "main", "kind": "postgres", "url": url_of("postgres")},
        ]}),
    )
    .await["id"]
        .as_i64()
        .expect("policy id");
    let cut = back_up(&app, &owner, policy_id).await;
    assert_eq!(cut["status"], "failed", "{cut}");
    let reason = cut["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("database `main`") && reason.contains("incomplete"),
        "{reason}"
    );
    let policy = ok(
        &app,
        &owner,
        "backups/get_policy",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert!(policy["last_good_at"].is_null(), "{policy}");
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert!(
        snaps
            .as_array()
            .expect("a list")
            .iter()
            .all(|s| s["status"] != "good"),
        "{snaps}"
    );

    // The same fake saying it failed: its own words reach the reason.
    std::fs::write(
        &fake,
        "#!/bin/sh\nprintf 'CREATE TABLE'\necho 'pg_dump: error: out of disk space' >&2\nexit 3\n",
    )
    .expect("write");
    let failed = back_up(&app, &owner, policy_id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("out of disk space"), "{reason}");
}
