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
