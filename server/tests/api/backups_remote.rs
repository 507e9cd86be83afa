//! Repositories on an SFTP server: a real one on loopback (`rclone serve sftp`, with a host key
//! made by `ssh-keygen`), reached by password and by private key. Backups land on the server,
//! restore byte-identical and verify in full; plain `restic` opens the repository with what
//! `backups/repository` gives; a server with another host key, a wrong password, a folder
//! holding a repository already or taken by another policy, and a remote that makes no sense
//! are refused by name, with nothing saved; no rclone or host key file outlives its job, and
//! no answer holds the server's password.

use crate::backups::{back_up, ended, ok, project, restore_job};
use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// An SFTP server on loopback, stopped when dropped.
struct Sftp {
    child: Child,
    port: u16,
    host_key: String,
    client_key: String,
}

impl Drop for Sftp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (scripts/services.sh installs openssh-client)")
        .success();
    assert!(ok, "ssh-keygen failed");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Serves `root` over SFTP for user `bob` (password `hunter2`, or the client key made here).
fn sftp(root: &Path, keys: &Path) -> Sftp {
    std::fs::create_dir_all(keys).expect("mkdir");
    keygen(&keys.join("host"));
    keygen(&keys.join("client"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("rclone")
        .args(["serve", "sftp"])
        .arg(root)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .arg("--key")
        .arg(keys.join("host"))
        .arg("--authorized-keys")
        .arg(keys.join("client.pub"))
        .args(["--user", "bob", "--pass", "hunter2"])
        .env("RCLONE_CONFIG", "")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Debian's rclone (scripts/services.sh installs it)");
    let server = Sftp {
        child,
        port,
        host_key: read(&keys.join("host.pub")),
        client_key: read(&keys.join("client")),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the SFTP server did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// Plain `restic` on the repository `backups/repository` described; (success, stdout, stderr).
fn restic(repo: &Value, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new("restic");
    cmd.args(["--no-cache", "-r", repo["path"].as_str().expect("path")])
        .args(args)
        .env(
            "RESTIC_PASSWORD",
            repo["password"].as_str().expect("password"),
        )
        .env("RCLONE_CONFIG", "");
    for (k, v) in repo["env"].as_object().expect("env") {
        cmd.env(k, v.as_str().expect("a string"));
    }
    let out = cmd.output().expect("Debian's restic");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_repository_on_an_sftp_server_backs_up_restores_and_opens_with_plain_restic() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    let served = work.path().join("server");
    std::fs::create_dir_all(&served).expect("mkdir");
    let server = sftp(&served, &work.path().join("keys"));
    let root = work.path().join("proj");
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    std::fs::write(root.join("a.txt"), "one\n").expect("write");
    let blob: Vec<u8> = (0..3_000_000u64).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(root.join("src/blob.bin"), &blob).expect("write");
    let project = project(&app, &owner, &root).await;
    let remote = json!({
        "kind": "sftp", "host": "127.0.0.1", "port": server.port, "user": "bob",
        "password": "hunter2", "host_key": server.host_key, "path": "repos/by-password",
    });
    let policy = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "remote": remote}),
    )
    .await;
    let policy_id = policy["id"].as_i64().expect("policy id");
    assert_eq!(
        policy["repository"],
        format!("sftp://bob@127.0.0.1:{}/repos/by-password", server.port)
    );
    assert!(
        !policy.to_string().contains("hunter2"),
        "the server's password is never shown: {policy}"
    );

    let first = back_up(&app, &owner, policy_id).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let snapshot_id = first["result"]["snapshot_id"].as_i64().expect("snapshot");
    // The repository is on the server, not under the data dir.
    let on_server = served.join("repos/by-password");
    assert!(
        on_server.join("config").is_file(),
        "no repository on the server"
    );
    assert!(
        std::fs::read_dir(on_server.join("snapshots"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 1,
        "one snapshot file on the server"
    );

    // A full read of every pack, through the server.
    let full = ok(
        &app,
        &owner,
        "backups/verify",
        json!({"policy_id": policy_id, "level": "full"}),
    )
    .await;
    let full = ended(&app, &owner, &full["id"]).await;
    assert_eq!(full["status"], "succeeded", "{full}");

    // Restored to a new path, byte-identical.
    let target = work.path().join("restored");
    let restored = restore_job(
        &app,
        &owner,
        json!({"snapshot_id": snapshot_id, "target_path": target}),
    )
    .await;
    assert_eq!(restored["status"], "succeeded", "{restored}");
    assert_eq!(restored["result"]["verified"], true, "{restored}");
    assert_eq!(read(&target.join("a.txt")), "one\n");
    assert!(
        std::fs::read(target.join("src/blob.bin")).ok() == Some(blob.clone()),
        "the restored blob differs"
    );

    // Plain restic opens it with what an admin is shown.
    let repo = ok(
        &app,
        &owner,
        "backups/repository",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(repo["path"], "rclone::sftp:repos/by-password", "{repo}");
    assert_eq!(repo["env"]["RCLONE_SFTP_HOST"], "127.0.0.1", "{repo}");
    let (listed, out, err) = restic(&repo, &["snapshots", "--json"]);
    assert!(listed, "restic snapshots: {err}");
    let snaps: Value = serde_json::from_str(&out).expect("restic's json");
    assert_eq!(snaps.as_array().map(Vec::len), Some(1), "{out}");
    let (read_back, out, err) = restic(
        &repo,
        &["dump", "latest", &format!("{}/a.txt", root.display())],
    );
    assert!(read_back, "restic dump: {err}");
    assert_eq!(out, "one\n");

    // By private key instead of password, a second backup of the same project.
    let by_key = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "name": "by-key", "remote": {
            "kind": "sftp", "host": "127.0.0.1", "port": server.port, "user": "bob",
            "private_key": server.client_key, "path": "repos/by-key",
        }}),
    )
    .await;
    let by_key = back_up(&app, &owner, by_key["id"].as_i64().expect("id")).await;
    assert_eq!(by_key["status"], "succeeded", "{by_key}");
    assert!(served.join("repos/by-key/config").is_file());

    // Refused, by name, with nothing saved.
    let refused = |body: Value| {
        let app = &app;
        let owner = &owner;
        async move {
            let r = app
                .post(
                    "backups/create_policy",
                    json!({"project_id": project, "name": "refused", "remote": body}),
                    Some(owner),
                )
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
            (
                r.body["field"].as_str().unwrap_or_default().to_owned(),
                r.body["message"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let base = json!({
        "kind": "sftp", "host": "127.0.0.1", "port": server.port, "user": "bob",
        "password": "hunter2", "path": "repos/other",
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let (field, why) = refused(with("path", json!("repos/by-password"))).await;
    assert_eq!(field, "remote.path", "{why}");
    assert!(why.contains("keeps its repository there already"), "{why}");
    // A repository Optimus did not make (its password is not Optimus's to know), made through
    // the server (rclone's SFTP server would not see a folder made behind its back at once).
    let foreign =
        json!({"path": "rclone::sftp:repos/foreign", "password": "not ours", "env": repo["env"]});
    let (made, _, err) = restic(&foreign, &["init"]);
    assert!(made, "restic init: {err}");
    let (field, why) = refused(with("path", json!("repos/foreign"))).await;
    assert_eq!(field, "remote.path", "{why}");
    assert!(why.contains("holds a restic repository"), "{why}");
    let other_key = read(&work.path().join("keys/client.pub"));
    let (field, why) = refused(with("host_key", json!(other_key))).await;
    assert_eq!(field, "remote", "{why}");
    assert!(why.contains("key mismatch"), "{why}");
    assert!(!why.contains("hunter2"), "{why}");
    let (field, why) = refused(with("password", json!("wrong"))).await;
    assert_eq!(field, "remote", "{why}");
    assert!(why.contains("unable to authenticate"), "{why}");
    assert!(!why.contains("wrong"), "{why}");
    // Two policies cannot share a folder, even before the first one's repository is there.
    ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "name": "first-here", "remote": with("path", json!("repos/shared/"))}),
    )
    .await;
    let (field, why) = refused(with("path", json!("./repos/shared"))).await;
    assert_eq!(field, "remote.path", "{why}");
    assert!(why.contains("first-here"), "{why}");
    let (field, why) = refused(with("kind", json!("s3"))).await;
    assert_eq!(field, "remote.kind", "{why}");
    let (field, _) = refused(with("password", Value::Null)).await;
    assert_eq!(field, "remote.password");
    let policies = ok(
        &app,
        &owner,
        "backups/policies",
        json!({"project_id": project}),
    )
    .await;
    assert_eq!(policies.as_array().map(Vec::len), Some(3), "{policies}");
    assert!(
        !served.join("repos/other").exists(),
        "a refused policy wrote nothing on the server"
    );
    // Nothing of the jobs is left running or lying around, and no answer held the password.
    assert!(!first.to_string().contains("hunter2"), "{first}");
    assert_eq!(
        rclones_serving(),
        0,
        "an rclone serve restic outlived its job"
    );
    let known_hosts = std::fs::read_dir(std::env::temp_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with("optimus-known-hosts-")
                })
                .count()
        })
        .unwrap_or(0);
    assert_eq!(known_hosts, 0, "a host key file outlived its job");
}

/// How many `rclone serve restic` run now.
fn rclones_serving() -> usize {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .filter(|c| c.starts_with(b"rclone\0serve\0restic\0"))
                .count()
        })
        .unwrap_or(0)
}
