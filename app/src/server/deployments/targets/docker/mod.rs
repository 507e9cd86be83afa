//! The Docker target: each instance is a container on the Docker Engine (reached the way the
//! `docker` client does: `DOCKER_HOST`, else the local socket), through its API.
//!
//! - **Image** ([`images`]): built from the release's folder (the service's `cwd` as the build context, its
//!   `deploy.dockerfile`, default `Dockerfile`) and tagged per release,
//!   `optimus-<install>/p<project>-<service>:r<release>`; a release whose image exists is not
//!   built again (a rollback never rebuilds). With `deploy.image`, that image is run (pulled
//!   when the engine lacks it). Images of releases retention prunes are removed with them.
//! - **Container**: the image's own command, with the active environment's variables, the
//!   service's own and `PORT` (the container port: `deploy.container_port`, else the service's
//!   `port`, else 8080), published on `127.0.0.1` at a port from the registry's range that
//!   nothing holds (the proxy is the public side); restarted by the engine unless stopped; a
//!   command readiness probe becomes the container's health check.
//! - **Pre-deploy command**: `sh -c` in a one-off container of the release's image, removed
//!   after.
//! - `<install>` is derived from the master key, so instances of one installation share images
//!   and two installations on one engine never mix theirs.

mod images;

pub use images::prune_images;

use super::{succeeded, tail, variables, Handle, Launch, Seen};
use crate::models::runtime::{ProbeCheck, ServiceState};
use crate::server::runtime::ports;
use crate::server::AppState;
use bollard::models::{
    ContainerCreateBody, ContainerStateStatusEnum, HealthConfig, HealthStatusEnum, HostConfig,
    PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
    WaitContainerOptions,
};
use bollard::Docker;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The label every image and container this target makes carries: the installation's key.
pub const LABEL_INSTALL: &str = "io.optimus.install";
const LABEL_PROJECT: &str = "io.optimus.project";
const LABEL_SERVICE: &str = "io.optimus.service";
const LABEL_RELEASE: &str = "io.optimus.release";
const LABEL_DEPLOYMENT: &str = "io.optimus.deployment";

/// How many ports are tried when the engine finds the chosen one taken.
const PORT_TRIES: usize = 5;

/// The engine, its API version agreed on first use (an older engine, such as Debian's 20.10,
/// answers an older version than the client speaks).
async fn engine() -> Result<Docker, String> {
    static ENGINE: tokio::sync::OnceCell<Docker> = tokio::sync::OnceCell::const_new();
    ENGINE
        .get_or_try_init(|| async {
            let docker = Docker::connect_with_local_defaults()
                .map_err(|e| format!("cannot reach the Docker Engine: {e}"))?;
            docker.negotiate_version().await.map_err(|e| {
                format!("the Docker Engine does not answer (is dockerd running?): {e}")
            })
        })
        .await
        .cloned()
}

/// This installation's key: the first 12 hex digits of a digest of the master key.
pub fn install_key(state: &AppState) -> String {
    state
        .crypto
        .digest("docker-install", b"")
        .chars()
        .take(12)
        .collect()
}

pub(super) async fn start(state: &AppState, launch: &Launch<'_>) -> Result<Handle, String> {
    let docker = engine().await?;
    let image = images::image(state, &docker, launch).await?;
    let def = launch.def;
    let inner = def.deploy.container_port.or(def.port).unwrap_or(8080);
    let mut env = environment(state, launch).await?;
    env.push(format!("PORT={inner}"));
    let labels = labels(state, launch);
    let healthcheck = match &def.probes.readiness {
        Some(p) => match &p.check {
            ProbeCheck::Exec { command } => Some(HealthConfig {
                test: Some(vec!["CMD-SHELL".into(), command.clone()]),
                interval: Some(nanos(p.interval_ms)),
                timeout: Some(nanos(p.timeout_ms)),
                retries: Some(i64::from(p.failure_threshold)),
                start_period: None,
                start_interval: None,
            }),
            _ => None,
        },
        None => None,
    };
    let exposed = format!("{inner}/tcp");
    let name = container_name(state, launch);
    let mut last_error = String::new();
    for port in candidate_ports(state, &docker).await? {
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            env: Some(env.clone()),
            labels: Some(labels.clone()),
            exposed_ports: Some(vec![exposed.clone()]),
            healthcheck: healthcheck.clone(),
            host_config: Some(HostConfig {
                port_bindings: Some(HashMap::from([(
                    exposed.clone(),
                    Some(vec![PortBinding {
                        host_ip: Some("127.0.0.1".into()),
                        host_port: Some(port.to_string()),
                    }]),
                )])),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                    maximum_retry_count: None,
                }),
                init: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        // A container of this name is a leftover of this deployment (an instance that lost its
        // lease mid-start): it is replaced.
        let _ = remove(&name, 0).await;
        let created = docker
            .create_container(
                Some(CreateContainerOptionsBuilder::default().name(&name).build()),
                body,
            )
            .await
            .map_err(|e| format!("could not create the container: {e}"))?;
        match docker.start_container(&created.id, None).await {
            Ok(()) => return Ok(Handle::Container(created.id)),
            Err(e) => {
                let _ = remove(&created.id, 0).await;
                last_error = e.to_string();
                // Only a taken port is worth another try.
                if !(last_error.contains("already allocated")
                    || last_error.contains("address already in use"))
                {
                    break;
                }
            }
        }
    }
    Err(format!("could not start the container: {last_error}"))
}

fn container_name(state: &AppState, launch: &Launch<'_>) -> String {
    format!(
        "optimus-{}-p{}-{}-d{}",
        install_key(state),
        launch.project_id,
        launch.def.name,
        launch.deployment_id
    )
}

async fn environment(state: &AppState, launch: &Launch<'_>) -> Result<Vec<String>, String> {
    Ok(variables(state, launch)
        .await?
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect())
}

/// Runs `command` by `sh -c` in a one-off container of the release's image (built first when
/// needed, and kept for the instances), with the service's variables; the container is removed
/// after, and killed on timeout.
pub(super) async fn run_once(
    state: &AppState,
    launch: &Launch<'_>,
    command: &str,
    timeout: Duration,
) -> Result<String, String> {
    let docker = engine().await?;
    let image = images::image(state, &docker, launch).await?;
    let name = format!("{}-pre", container_name(state, launch));
    let _ = remove(&name, 0).await;
    let body = ContainerCreateBody {
        image: Some(image),
        env: Some(environment(state, launch).await?),
        labels: Some(labels(state, launch)),
        entrypoint: Some(vec!["sh".into(), "-c".into()]),
        cmd: Some(vec![command.to_owned()]),
        host_config: Some(HostConfig {
            init: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::default().name(&name).build()),
            body,
        )
        .await
        .map_err(|e| format!("could not create its container: {e}"))?;
    let started = Instant::now();
    let outcome = async {
        docker
            .start_container(&created.id, None)
            .await
            .map_err(|e| format!("could not start its container: {e}"))?;
        let mut wait = docker.wait_container(&created.id, None::<WaitContainerOptions>);
        let code = match tokio::time::timeout(timeout, wait.next()).await {
            Err(_) => {
                return Err(format!(
                    "still running after {} s: stopped",
                    timeout.as_secs()
                ))
            }
            Ok(None) => return Err("its container vanished".to_owned()),
            Ok(Some(Ok(r))) => r.status_code,
            Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. }))) => code,
            Ok(Some(Err(e))) => return Err(format!("could not wait for its container: {e}")),
        };
        let printed: String = docker
            .logs(
                &created.id,
                Some(
                    LogsOptionsBuilder::default()
                        .stdout(true)
                        .stderr(true)
                        .tail("20")
                        .build(),
                ),
            )
            .filter_map(|l| async move { l.ok().map(|l| l.to_string()) })
            .collect::<Vec<String>>()
            .await
            .concat();
        if code == 0 {
            Ok(succeeded(started.elapsed(), " in a container", &printed))
        } else {
            Err(format!(
                "it ended with exit code {code}: {}",
                tail(&printed)
            ))
        }
    }
    .await;
    let _ = remove(&created.id, 0).await;
    outcome
}

fn nanos(ms: u64) -> i64 {
    i64::try_from(ms.saturating_mul(1_000_000)).unwrap_or(i64::MAX)
}

fn labels(state: &AppState, launch: &Launch<'_>) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_INSTALL.to_owned(), install_key(state)),
        (LABEL_PROJECT.to_owned(), launch.project_id.to_string()),
        (LABEL_SERVICE.to_owned(), launch.def.name.clone()),
        (LABEL_RELEASE.to_owned(), launch.release.number.to_string()),
        (
            LABEL_DEPLOYMENT.to_owned(),
            launch.deployment_id.to_string(),
        ),
    ])
}

/// Ports of the registry's range that no service holds, no container of this installation
/// publishes, and nothing listens on: the first few, lowest first.
async fn candidate_ports(state: &AppState, docker: &Docker) -> Result<Vec<u16>, String> {
    let mut taken: HashSet<u16> = ports::entries(state)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|e| e.port)
        .collect();
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("{LABEL_INSTALL}={}", install_key(state))],
    )]);
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| format!("could not list containers: {e}"))?;
    for c in containers {
        for p in c.ports.unwrap_or_default() {
            if let Some(public) = p.public_port {
                taken.insert(public);
            }
        }
    }
    let (start, end) = (
        state.settings.port_range_start,
        state.settings.port_range_end,
    );
    let out: Vec<u16> = tokio::task::spawn_blocking(move || {
        (start..=end)
            .filter(|p| !taken.contains(p) && ports::is_free(*p))
            .take(PORT_TRIES)
            .collect()
    })
    .await
    .map_err(|e| e.to_string())?;
    if out.is_empty() {
        return Err(format!("no free port left in {start}–{end}"));
    }
    Ok(out)
}

pub(super) async fn seen(id: &str) -> Result<Option<Seen>, String> {
    let docker = engine().await?;
    let c = match docker
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
    {
        Ok(c) => c,
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => return Ok(None),
        Err(e) => return Err(format!("could not inspect the container: {e}")),
    };
    let port = c
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.as_ref())
        .and_then(|ports| {
            ports
                .values()
                .flatten()
                .flatten()
                .find_map(|b| b.host_port.as_deref()?.parse::<u16>().ok())
        });
    let self_checked = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.healthcheck.as_ref())
        .and_then(|h| h.test.as_ref())
        .is_some_and(|t| t.first().is_some_and(|k| k == "CMD-SHELL" || k == "CMD"));
    let st = c.state.unwrap_or_default();
    let health = st.health.as_ref().and_then(|h| h.status);
    let (state, message) = match st.status {
        Some(ContainerStateStatusEnum::RUNNING) => match health {
            Some(HealthStatusEnum::STARTING) => (ServiceState::Starting, None),
            Some(HealthStatusEnum::UNHEALTHY) => (
                ServiceState::Unhealthy,
                Some("its health check fails".to_owned()),
            ),
            _ => (ServiceState::Ready, None),
        },
        Some(ContainerStateStatusEnum::CREATED) => (ServiceState::Starting, None),
        Some(ContainerStateStatusEnum::RESTARTING) => (
            ServiceState::Backoff,
            Some(format!(
                "restarting after exit code {}",
                st.exit_code.unwrap_or_default()
            )),
        ),
        Some(ContainerStateStatusEnum::EXITED) | Some(ContainerStateStatusEnum::DEAD) => {
            let error = st.error.filter(|e| !e.is_empty());
            (
                ServiceState::Exited,
                Some(match error {
                    Some(e) => format!("exit code {}: {e}", st.exit_code.unwrap_or_default()),
                    None => format!("exit code {}", st.exit_code.unwrap_or_default()),
                }),
            )
        }
        _ => (ServiceState::Stopped, None),
    };
    Ok(Some(Seen {
        state,
        message,
        port,
        restarts: c.restart_count.unwrap_or(0),
        self_checked,
    }))
}

pub(super) async fn stop(id: &str, grace_ms: u64) -> Result<(), String> {
    let docker = engine().await?;
    let secs = i32::try_from(grace_ms.div_ceil(1000)).unwrap_or(i32::MAX);
    match docker
        .stop_container(
            id,
            Some(StopContainerOptionsBuilder::default().t(secs).build()),
        )
        .await
    {
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 304, ..
        }) => Ok(()),
        Err(e) => Err(format!("could not stop the container: {e}")),
    }
}

pub(super) async fn resume(id: &str) -> Result<(), String> {
    let docker = engine().await?;
    match docker.start_container(id, None).await {
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 304, ..
        }) => Ok(()),
        Err(e) => Err(format!("could not start the container again: {e}")),
    }
}

pub(super) async fn remove(id: &str, grace_ms: u64) -> Result<(), String> {
    if grace_ms > 0 {
        stop(id, grace_ms).await?;
    }
    let docker = engine().await?;
    match docker
        .remove_container(
            id,
            Some(RemoveContainerOptionsBuilder::default().force(true).build()),
        )
        .await
    {
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(format!("could not remove the container: {e}")),
    }
}
