//! The container deployment files, checked without a Docker engine.

use serde_yaml_ng::Value;

fn repo_file(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn compose_runs_optimus_with_postgres_and_redis() {
    let doc: Value =
        serde_yaml_ng::from_str(&repo_file("deploy/docker-compose.yml")).expect("valid YAML");
    let services = doc["services"].as_mapping().expect("services");
    for name in ["optimus", "postgres", "redis"] {
        assert!(services.contains_key(name), "service {name}");
    }
    let optimus = &doc["services"]["optimus"];
    let env = serde_yaml_ng::to_string(&optimus["environment"]).unwrap_or_default();
    assert!(
        env.contains("OPTIMUS_DATABASE_URL") && env.contains("postgres://"),
        "{env}"
    );
    assert!(
        env.contains("OPTIMUS_REDIS_URL") && env.contains("redis://"),
        "{env}"
    );
    assert!(env.contains("OPTIMUS_BIND"), "{env}");
    let depends = serde_yaml_ng::to_string(&optimus["depends_on"]).unwrap_or_default();
    assert!(depends.contains("postgres") && depends.contains("redis"));
    assert!(doc["services"]["postgres"]["healthcheck"].is_mapping());
    assert!(optimus["healthcheck"].is_mapping() || repo_file("Dockerfile").contains("HEALTHCHECK"));
}

#[test]
fn the_image_builds_with_the_readme_script_runs_as_non_root_and_checks_health() {
    let dockerfile = repo_file("Dockerfile");
    assert!(
        dockerfile.contains("scripts/build.sh"),
        "the image uses the same build script as the README"
    );
    assert!(dockerfile.contains("debian") && dockerfile.contains("slim"));
    assert!(dockerfile.contains("USER optimus"));
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("/healthz"));
    assert!(dockerfile.matches("FROM ").count() >= 2, "multi-stage");
}

/// A manifest of deploy/kubernetes (its first document).
fn manifest(name: &str) -> Value {
    serde_yaml_ng::from_str(&repo_file(&format!("deploy/kubernetes/{name}"))).expect("valid YAML")
}

/// The string pairs of a mapping.
fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_mapping()
        .expect("a mapping")
        .iter()
        .map(|(k, v)| {
            let k = k.as_str().expect("a key").to_owned();
            (k, v.as_str().expect("a string").to_owned())
        })
        .collect()
}

/// The Kubernetes ConfigMap and Secret hold settings the real program reads (it runs its
/// migrations with them, warning of no unknown key), and the Deployment's probes, port, Service,
/// autoscaler and disruption budget agree with it and with each other. (The schemas themselves
/// are checked by scripts/kubernetes.sh.)
#[tokio::test]
async fn the_kubernetes_manifests_configure_the_real_program_and_agree_with_each_other() {
    let mut env = pairs(&manifest("configmap.yaml")["data"]);
    env.extend(pairs(&manifest("secret.yaml")["stringData"]));
    let keys: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    for key in [
        "OPTIMUS_DATABASE_URL",
        "OPTIMUS_REDIS_URL",
        "OPTIMUS_JWT_SECRET",
        "OPTIMUS_MASTER_KEY",
    ] {
        assert!(keys.contains(&key), "{key} is configured");
    }
    // The example URLs name the cluster's services; here they are the test's own.
    let data = tempfile::tempdir().expect("data");
    let database = crate::helpers::fresh_database(data.path()).await;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_optimus"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OPTIMUS_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in &env {
        let v = match k.as_str() {
            "OPTIMUS_DATABASE_URL" => database.clone(),
            "OPTIMUS_REDIS_URL" => crate::helpers::redis_url().unwrap_or_default(),
            "OPTIMUS_DATA_DIR" => data.path().display().to_string(),
            _ => v.clone(),
        };
        cmd.env(k, v);
    }
    let out = cmd.arg("migrate").output().expect("run optimus migrate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "optimus migrate with the manifests' settings: {stderr}"
    );
    assert!(
        !stderr.contains("ignoring unknown environment variable"),
        "every key is one Optimus reads: {stderr}"
    );

    let deployment = manifest("deployment.yaml");
    let pod = &deployment["spec"]["template"];
    let container = &pod["spec"]["containers"][0];
    let probe = |kind: &str| {
        container[kind]["httpGet"]["path"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(probe("startupProbe").as_deref(), Some("/healthz"));
    assert_eq!(probe("livenessProbe").as_deref(), Some("/healthz"));
    assert_eq!(probe("readinessProbe").as_deref(), Some("/readyz"));
    let bind = env
        .iter()
        .find(|(k, _)| k == "OPTIMUS_BIND")
        .map(|(_, v)| v.clone());
    let port = container["ports"][0]["containerPort"]
        .as_u64()
        .map(|p| p.to_string());
    assert_eq!(
        bind.and_then(|b| b.rsplit(':').next().map(str::to_owned)),
        port
    );
    for kind in ["requests", "limits"] {
        let r = &container["resources"][kind];
        assert!(r["cpu"].is_string() && r["memory"].is_string(), "{kind}");
    }
    let labels = &pod["metadata"]["labels"];
    assert_eq!(manifest("service.yaml")["spec"]["selector"], *labels);
    assert_eq!(
        manifest("pdb.yaml")["spec"]["selector"]["matchLabels"],
        *labels
    );
    let hpa = manifest("hpa.yaml");
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        deployment["metadata"]["name"]
    );
    assert!(
        hpa["spec"]["minReplicas"].as_u64() >= Some(2),
        "more than one replica"
    );
}
