//! The deployments' Docker target on the real engine (`scripts/docker.sh` installs and starts
//! Debian's docker.io; the test command runs it first). No registry is reachable: the project
//! builds its image `FROM scratch` with Debian's static busybox as its web server.

use crate::deployments::{
    deploy, deployed, ended, fetch, free_port, load, redefine, setup_keeping,
};
use crate::helpers::{eventually, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const DOCKERFILE: &str = r#"FROM scratch
COPY busybox /bin/busybox
COPY busybox /bin/sh
COPY www /www
EXPOSE 8080
CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
"#;

/// Fails the test, saying how to start it, when the engine does not answer.
fn engine_or_fail() {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.APIVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the Docker Engine does not answer: `bash scripts/docker.sh` installs and starts it"
    );
    let busybox = Command::new("file")
        .args(["-L", "/bin/busybox"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        busybox.contains("statically linked"),
        "no static /bin/busybox (Debian's busybox-static; `bash scripts/docker.sh` installs it): {busybox}"
    );
}

/// `docker` with `args`; its standard output, trimmed.
fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Lines of `docker` output (none when empty).
fn lines(args: &[&str]) -> Vec<String> {
    docker(args)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Removes what the test made on the engine, however it ends.
struct Cleanup {
    project: i64,
    service: &'static str,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let filter = format!("label=io.optimus.service={}", self.service);
        let project = format!("label=io.optimus.project={}", self.project);
        let ids = Command::new("docker")
            .args(["ps", "-aq", "--filter", &filter, "--filter", &project])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for id in ids.split_whitespace() {
            let _ = Command::new("docker").args(["rm", "-f", id]).output();
        }
        let images = Command::new("docker")
            .args([
                "image", "ls", "-q", "--filter", &filter, "--filter", &project,
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for id in images.split_whitespace() {
            let _ = Command::new("docker").args(["rmi", "-f", id]).output();
        }
    }
}

fn write_release(dir: &Path, version: &str, dockerfile: &str) {
    std::fs::create_dir_all(dir.join("www")).expect("www");
    std::fs::write(dir.join("www/index.html"), version).expect("index");
    std::fs::write(dir.join("Dockerfile"), dockerfile).expect("Dockerfile");
}

async fn project(app: &TestApp, token: &str, dir: &Path, public: u16) -> i64 {
    std::fs::copy("/bin/busybox", dir.join("busybox")).expect("copy busybox");
    let p = app
        .post_anon("projects/create", json!({"path": dir}), Some(token))
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let project = p.body["id"].as_i64().expect("project id");
    // Locally it would run as a process; deployments run its image.
    let definition = json!({
        "name": "bbweb",
        "command": "exec ./busybox httpd -f -p $PORT -h www",
        "allocate_port": true,
        "public_port": public,
        "probes": {"readiness": {"check": {"kind": "http", "path": "/"}, "interval_ms": 200}},
        "deploy": {"target": "docker", "watch_secs": 2, "ready_passes": 2,
                   "ready_timeout_secs": 20, "drain_secs": 5,
                   "pre_deploy": "echo migrating to release $OPTIMUS_RELEASE"}
    });
    let r = app
        .post_anon(
            "services/create",
            json!({"project_id": project, "definition": definition}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    project
}

fn containers(project: i64, all: bool) -> Vec<String> {
    let project = format!("label=io.optimus.project={project}");
    let mut args = vec!["ps", "-q", "--filter", "label=io.optimus.service=bbweb"];
    if all {
        args.insert(1, "-a");
    }
    args.extend(["--filter", project.as_str()]);
    lines(&args)
}

fn images(project: i64) -> Vec<String> {
    let project = format!("label=io.optimus.project={project}");
    let mut tags = lines(&[
        "image",
        "ls",
        "--format",
        "{{.Tag}} {{.ID}}",
        "--filter",
        "label=io.optimus.service=bbweb",
        "--filter",
        &project,
    ]);
    tags.sort();
    tags
}

#[tokio::test]
async fn the_docker_target_builds_each_release_once_switches_without_dropping_requests_and_rolls_back_without_rebuilding(
) {
    engine_or_fail();
    // Keeping one release (plus the serving one and its rollback target) shows pruning.
    let (app, token) = setup_keeping(1).await;
    let app = &app;
    let _guard = app.guard();
    let token = token.as_str();
    let dir = tempfile::tempdir().expect("tempdir");
    let public = free_port();
    write_release(dir.path(), "v1", DOCKERFILE);
    let project = project(app, token, dir.path(), public).await;
    let _cleanup = Cleanup {
        project,
        service: "bbweb",
    };

    // Release 1: built, run, ready, served through the proxy.
    let first = deployed(app, token, json!({"project_id": project}), "succeeded").await;
    assert_eq!(fetch(public, "/").await, Ok((200, "v1".into())), "{first}");
    // The pre-deploy command ran first, in a container of the release's image.
    let pre = &first["steps"][0];
    assert_eq!(pre["name"], "pre-deploy bbweb", "{first}");
    assert!(
        pre["detail"]
            .as_str()
            .is_some_and(|d| d.contains("in a container: migrating to release 1")),
        "{first}"
    );
    let start = &first["steps"][1];
    assert_eq!(start["name"], "start bbweb", "{first}");
    assert!(
        start["detail"]
            .as_str()
            .is_some_and(|d| d.contains("docker target")),
        "{first}"
    );
    assert_eq!(containers(project, false).len(), 1);

    // Release 2 under load: no request fails, traffic moves from v1 to v2 once.
    write_release(dir.path(), "v2", DOCKERFILE);
    let traffic = load(public);
    let second = deployed(app, token, json!({"project_id": project}), "succeeded").await;
    let (seen, failures, count) = traffic.finish().await;
    assert!(
        failures.is_empty(),
        "{} of {count} failed: {failures:?}",
        failures.len()
    );
    assert_eq!(seen, ["v1", "v2"], "{second}");
    // The old container is gone after the watch window; both releases' images stay.
    assert_eq!(
        containers(project, true).len(),
        1,
        "one container left: release 2's"
    );
    let built = images(project);
    assert_eq!(built.len(), 2, "{built:?}");
    assert!(
        built[0].starts_with("r1 ") && built[1].starts_with("r2 "),
        "{built:?}"
    );

    // A release whose container exits at once never gets traffic; v2 serves throughout.
    write_release(
        dir.path(),
        "v3",
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\nCMD [\"/bin/busybox\", \"false\"]\n",
    );
    let id = deploy(app, token, json!({"project_id": project})).await;
    let traffic = load(public);
    let broken = ended(app, token, id, Duration::from_secs(60)).await;
    let (seen, failures, _) = traffic.finish().await;
    assert_eq!(broken["status"], "failed", "{broken}");
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(seen, ["v2"]);
    eventually(
        Duration::from_secs(10),
        "the failed release's container is removed",
        || async { (containers(project, true).len() == 1).then_some(()) },
    )
    .await;

    // Rollback to release 1: its kept image runs again, nothing is built.
    let r = app
        .post_anon(
            "deployments/rollback",
            json!({"project_id": project, "release": 1}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let asked = Instant::now();
    let rolled: Value = ended(
        app,
        token,
        r.body["id"].as_i64().expect("id"),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(rolled["status"], "succeeded", "{rolled}");
    let took = asked.elapsed();
    assert_eq!(fetch(public, "/").await, Ok((200, "v1".into())));
    let after = images(project);
    assert!(
        built.iter().all(|b| after.contains(b)),
        "release 1 and 2 keep their images, none rebuilt: {built:?} → {after:?}"
    );
    eprintln!("OBSERVED docker rollback to release 1 ended {took:?} after it was asked (watch window 2 s)");

    // Release 4 serves; retention prunes releases 2 and 3 and their images with them, keeping
    // release 1 (where a rollback would go) and 4.
    write_release(dir.path(), "v4", DOCKERFILE);
    deployed(app, token, json!({"project_id": project}), "succeeded").await;
    assert_eq!(fetch(public, "/").await, Ok((200, "v4".into())));
    // Retention runs once the deployment has ended.
    let tags = || {
        images(project)
            .iter()
            .filter_map(|i| i.split_whitespace().next().map(str::to_owned))
            .collect::<Vec<String>>()
    };
    eventually(
        Duration::from_secs(10),
        "releases 2 and 3 are pruned with their images",
        || async {
            let releases = app
                .post_anon(
                    "deployments/releases",
                    json!({"project_id": project}),
                    Some(token),
                )
                .await
                .body;
            let pruned: Vec<i64> = releases
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter(|r| r["pruned"] == true)
                        .filter_map(|r| r["number"].as_i64())
                        .collect()
                })
                .unwrap_or_default();
            (pruned == [3, 2] && tags() == ["r1", "r4"]).then_some(())
        },
    )
    .await;

    // A service may name an image instead: one the engine has runs as it is (here release 1's,
    // by its reference); one it lacks is pulled, and with no registry reachable the deployment
    // fails saying so, while release 4 serves on.
    let project_label = format!("label=io.optimus.project={project}");
    let r1 = lines(&[
        "image",
        "ls",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "--filter",
        "label=io.optimus.service=bbweb",
        "--filter",
        &project_label,
    ])
    .into_iter()
    .find(|r| r.ends_with(":r1"))
    .expect("release 1's image");
    let service = app
        .post_anon("services/list", json!({"project_id": project}), Some(token))
        .await
        .body[0]["id"]
        .as_i64()
        .expect("service id");
    let named = |image: &str| {
        json!({"name": "bbweb", "command": "exec ./busybox httpd -f -p $PORT -h www",
               "allocate_port": true, "public_port": public,
               "deploy": {"target": "docker", "image": image, "watch_secs": 1, "ready_passes": 2,
                          "ready_timeout_secs": 20, "drain_secs": 5}})
    };
    redefine(app, token, service, named("optimus-test.invalid/absent:1")).await;
    let missing = deployed(app, token, json!({"project_id": project}), "failed").await;
    assert!(
        missing["reason"]
            .as_str()
            .is_some_and(|r| r.contains("could not pull `optimus-test.invalid/absent:1`")),
        "{missing}"
    );
    assert_eq!(fetch(public, "/").await, Ok((200, "v4".into())));
    redefine(app, token, service, named(&r1)).await;
    deployed(app, token, json!({"project_id": project}), "succeeded").await;
    assert_eq!(
        fetch(public, "/").await,
        Ok((200, "v1".into())),
        "{r1} runs as it is"
    );
}

#[tokio::test]
async fn docker_settings_that_do_not_fit_together_are_refused_naming_the_field() {
    let (app, token) = setup_keeping(5).await;
    let token = token.as_str();
    let dir = tempfile::tempdir().expect("tempdir");
    let p = app
        .post_anon("projects/create", json!({"path": dir.path()}), Some(token))
        .await;
    let project = p.body["id"].as_i64().expect("project id");
    let cases = [
        (json!({"dockerfile": "Dockerfile"}), "deploy.dockerfile"),
        (
            json!({"target": "docker", "dockerfile": "Dockerfile", "image": "nginx:1.27"}),
            "deploy.image",
        ),
        (
            json!({"target": "docker", "dockerfile": "../Dockerfile"}),
            "deploy.dockerfile",
        ),
        (
            json!({"target": "docker", "image": "Nginx Latest"}),
            "deploy.image",
        ),
        (json!({"target": "docker"}), "deploy.target"),
    ];
    for (deploy, field) in cases {
        let definition = json!({"name": "web", "command": "true", "deploy": deploy});
        let r = app
            .post_anon(
                "services/create",
                json!({"project_id": project, "definition": definition}),
                Some(token),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{deploy}: {}",
            r.body
        );
        assert!(
            r.body["field"].as_str().is_some_and(|f| f.ends_with(field)),
            "{deploy}: {}",
            r.body
        );
    }
    let listed = app
        .post_anon("services/list", json!({"project_id": project}), Some(token))
        .await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(0),
        "nothing was saved"
    );
}
