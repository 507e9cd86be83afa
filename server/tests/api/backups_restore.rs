//! Restores in place, over a project's folder: a dry run lists what would be written and
//! writes nothing; the restore is refused while the project's services run unless they are to
//! be stopped; a safety snapshot of what is there is taken first (and brings it back); files
//! the backup does not hold are kept; the services stopped for it run again after it.

use crate::backups::{back_up, ok, project, restic, restore_job};
use crate::helpers::spawn_app;
use crate::runtime::{create, get, wait_state};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| format!("<{}: {e}>", path.display()))
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
async fn an_in_place_restore_stops_the_services_takes_a_safety_snapshot_and_keeps_extra_files() {
    let app = spawn_app().await;
    let owner = app.setup_owner().await;
    let work = tempfile::tempdir().expect("tempdir");
    let root = work.path().join("proj");
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    std::fs::write(root.join("a.txt"), "one\n").expect("write");
    std::fs::write(root.join("src/b.txt"), "two\n").expect("write");
    std::fs::write(root.join("same.txt"), "same\n").expect("write");
    let project = project(&app, &owner, &root).await;
    let policy_id = ok(
        &app,
        &owner,
        "backups/create_policy",
        json!({"project_id": project, "keep": {"last": 10}}),
    )
    .await["id"]
        .as_i64()
        .expect("policy id");
    let first = back_up(&app, &owner, policy_id).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let good = first["result"]["snapshot_id"]
        .as_i64()
        .expect("snapshot id");

    // The project's service runs; then its files change.
    let svc = create(
        &app,
        &owner,
        project,
        json!({"name": "worker", "command": "sleep 300"}),
    )
    .await;
    let r = app
        .post_anon("services/start", json!({"id": svc}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = wait_state(&app, &owner, svc, "ready", Duration::from_secs(10)).await;
    std::fs::write(root.join("a.txt"), "changed\n").expect("write");
    std::fs::remove_file(root.join("src/b.txt")).expect("rm");
    std::fs::write(root.join("new.txt"), "mine\n").expect("write");

    // A dry run may run beside the services: it lists what would be written, writes nothing.
    let dry = restore_job(
        &app,
        &owner,
        json!({"snapshot_id": good, "in_place": true, "dry_run": true}),
    )
    .await;
    assert_eq!(dry["status"], "succeeded", "{dry}");
    assert_eq!(
        sorted(&dry["result"]["changes"]),
        ["a.txt", "src/b.txt"],
        "{dry}"
    );
    assert_eq!(dry["result"]["restored_files"], 2, "{dry}");
    assert_eq!(dry["result"]["extra_files"], 1, "new.txt: {dry}");
    assert!(dry["result"]["safety_snapshot_id"].is_null(), "{dry}");
    assert_eq!(read(&root.join("a.txt")), "changed\n");
    assert!(!root.join("src/b.txt").exists());

    // Refused while the service runs, naming it; nothing queued, nothing written.
    let r = app
        .post(
            "backups/restore",
            json!({"snapshot_id": good, "in_place": true}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.to_string().contains("worker"), "{}", r.body);
    // Where to restore is said once: a target path or in place.
    for (body, field) in [
        (
            json!({"snapshot_id": good, "in_place": true, "target_path": work.path().join("x")}),
            "target_path",
        ),
        (json!({"snapshot_id": good}), "target_path"),
        (
            json!({"snapshot_id": good, "target_path": work.path().join("y"), "stop_services": true}),
            "stop_services",
        ),
    ] {
        let r = app
            .post("backups/restore", body.clone(), Some(&owner))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(r.field(), Some(field), "{body}: {}", r.body);
    }
    assert_eq!(read(&root.join("a.txt")), "changed\n");

    // Asked to stop them: stopped, safety snapshot, restore, read back, started again.
    let j = restore_job(
        &app,
        &owner,
        json!({"snapshot_id": good, "in_place": true, "stop_services": true}),
    )
    .await;
    assert_eq!(j["status"], "succeeded", "{j}");
    let result = &j["result"];
    assert_eq!(result["verified"], true, "{j}");
    assert_eq!(result["stopped_services"], json!(["worker"]), "{j}");
    assert_eq!(result["restored_files"], 2, "{j}");
    assert_eq!(result["extra_files"], 1, "{j}");
    // Where the time went, phase by phase, in order.
    let phases: Vec<&str> = result["phases"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["phase"].as_str()).collect())
        .unwrap_or_default();
    let at = |name: &str| phases.iter().position(|p| *p == name);
    assert!(
        at("safety snapshot").is_some() && at("safety snapshot") < at("restoring"),
        "{phases:?}"
    );
    assert_eq!(read(&root.join("a.txt")), "one\n");
    assert_eq!(read(&root.join("src/b.txt")), "two\n");
    assert_eq!(read(&root.join("same.txt")), "same\n");
    assert_eq!(
        read(&root.join("new.txt")),
        "mine\n",
        "a file the backup does not hold is kept"
    );
    let after = wait_state(&app, &owner, svc, "ready", Duration::from_secs(10)).await;
    assert_ne!(
        after["last_run"]["id"], before["last_run"]["id"],
        "the service was stopped and started again: {after}"
    );

    // The safety snapshot holds what was there, is listed as such, and is not the policy's
    // last backup.
    let safety = result["safety_snapshot_id"]
        .as_i64()
        .expect("a safety snapshot");
    let snaps = ok(
        &app,
        &owner,
        "backups/snapshots",
        json!({"policy_id": policy_id}),
    )
    .await;
    let listed = |id: i64| {
        snaps
            .as_array()
            .and_then(|a| a.iter().find(|s| s["id"] == id).cloned())
            .unwrap_or_else(|| panic!("snapshot {id} is listed: {snaps}"))
    };
    assert_eq!(listed(safety)["kind"], "safety", "{snaps}");
    assert_eq!(listed(safety)["status"], "good", "{snaps}");
    assert_eq!(listed(good)["kind"], "backup", "{snaps}");
    let state = ok(
        &app,
        &owner,
        "backups/get_policy",
        json!({"policy_id": policy_id}),
    )
    .await;
    assert_eq!(state["last_good_at"], listed(good)["time"], "{state}");
    // Plain restic sees it under its own tag.
    let repo = ok(
        &app,
        &owner,
        "backups/repository",
        json!({"policy_id": policy_id}),
    )
    .await;
    let (fine, out, err) = restic(&repo, &["snapshots", "--tag", "safety", "--json"]);
    assert!(fine, "{err}");
    let restic_id = listed(safety)["restic_id"]
        .as_str()
        .expect("restic id")
        .to_owned();
    assert!(out.contains(&restic_id), "{out}");

    // It brings back what the restore overwrote: one file of it, in place.
    let j = restore_job(
        &app,
        &owner,
        json!({"snapshot_id": safety, "in_place": true, "path": "a.txt", "stop_services": true}),
    )
    .await;
    assert_eq!(j["status"], "succeeded", "{j}");
    assert_eq!(read(&root.join("a.txt")), "changed\n");
    assert_eq!(
        read(&root.join("src/b.txt")),
        "two\n",
        "only a.txt was restored"
    );
    assert!(j["result"]["safety_snapshot_id"].as_i64().is_some(), "{j}");

    let r = app
        .post_anon("services/stop", json!({"id": svc}), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get(&app, &owner, svc).await["state"], "stopped");
}
