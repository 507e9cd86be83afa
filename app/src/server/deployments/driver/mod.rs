//! Drives one claimed deployment through its steps:
//!
//! 0. **Pre-deploy**: each service's `pre_deploy` command (a migration, say) runs once; if one
//!    fails, nothing starts.
//! 1. **Start**: each service of the release, in dependency order, as a new instance on its
//!    target (a process in the release's folder, or a container). Blue-green gives it a fresh
//!    port beside the serving one; recreate stops the serving one first.
//! 2. **Ready**: each new instance must pass its readiness check `ready_passes` times in a row
//!    (a refused connection while it starts is "not yet") within `ready_timeout_secs`. If one
//!    does not, the new instances go and the deployment fails: traffic never moved.
//! 3. **Switch**: each public port is pointed at its new instance through `optimus-proxy`, at
//!    once; requests under way finish on the old one.
//! 4. **Watch**: for the longest `watch_secs` of its services the old instances stay warm, and
//!    the new ones are watched: readiness failures in a row, a crash, or too many 5xx answers
//!    (seen by the proxy) switch traffic straight back and record an automatic rollback.
//! 5. **Retire**: the old instances drain (requests under way finish, up to `drain_secs`) and
//!    stop; the release becomes current and retention prunes older ones.
//!
//! Every write is fenced: an instance that lost its lease changes nothing. Steps 0–3 are in
//! [`cutover`], 4–5 and rolling back in [`watch`]; this module holds the deployment's record
//! (its steps, its end, the council's outcome).

mod cutover;
mod watch;

use super::entities::deployment;
use super::repo::deployments::Progress;
use super::targets::Handle;
use super::{releases, repo, Serving};
use crate::models::council::OutcomeRequest;
use crate::models::deployments::{CouncilVerdict, DeployStep, DeploymentStatus, Strategy};
use crate::models::events::Event;
use crate::models::runtime::ServiceDefinition;
use crate::server::council;
use crate::server::notifications::{self, NewNotification};
use crate::server::AppState;
use chrono::Utc;
use std::net::{Ipv4Addr, SocketAddr};

/// A deployment being driven here.
pub(super) struct Drive {
    state: AppState,
    d: deployment::Model,
    fence: i64,
    steps: Vec<DeployStep>,
    http: reqwest::Client,
    /// What served before this deployment (all of it, services the release drops included).
    before: Vec<Serving>,
}

/// One service's part in the deployment.
struct Part {
    def: ServiceDefinition,
    strategy: Strategy,
    /// The instance serving before, if any.
    old: Option<Serving>,
    /// The new instance.
    new: Option<Instance>,
}

/// A new instance, as last seen ready.
#[derive(Debug, Clone)]
struct Instance {
    handle: Handle,
    port: Option<u16>,
    /// Its restarts when it became ready (more later is a crash).
    restarts: i64,
}

impl Drive {
    pub(super) fn new(state: AppState, d: deployment::Model, fence: i64) -> Self {
        Self {
            state,
            d,
            fence,
            steps: Vec::new(),
            http: reqwest::Client::new(),
            before: Vec::new(),
        }
    }

    /// Runs the deployment to its end.
    pub(super) async fn run(mut self) {
        let outcome = self.deploy().await;
        if let Err(reason) = outcome {
            tracing::warn!(deployment.id = self.d.id, reason = %reason, "deployment failed");
            self.finish(DeploymentStatus::Failed, Some(reason), None)
                .await;
        }
    }

    async fn deploy(&mut self) -> Result<(), String> {
        let state = self.state.clone();
        let release = repo::releases::find(&state.db, self.d.release_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("its release is gone")?;
        if release.pruned_at.is_some() {
            return Err(format!("release {} was pruned", release.number));
        }
        let current = repo::deployments::current(&state.db, self.d.project_id)
            .await
            .map_err(|e| e.to_string())?;
        let serving: Vec<Serving> = current
            .as_ref()
            .map(|c| serde_json::from_str(&c.slots).unwrap_or_default())
            .unwrap_or_default();
        self.before = serving.clone();
        let previous = current.as_ref().map(|c| c.release_id);
        let _ = repo::deployments::set_previous(&state.db, self.d.id, previous).await;
        self.d.previous_release_id = previous;

        let defs = in_dependency_order(releases::services(&release).map_err(|e| e.to_string())?);
        let asked = Strategy::parse(&self.d.strategy);
        let mut parts: Vec<Part> = defs
            .into_iter()
            .map(|def| {
                let strategy = asked.or(def.deploy.strategy).unwrap_or(if has_port(&def) {
                    Strategy::BlueGreen
                } else {
                    Strategy::Recreate
                });
                let old = serving.iter().find(|s| s.service == def.name).cloned();
                Part {
                    def,
                    strategy,
                    old,
                    new: None,
                }
            })
            .collect();

        self.pre_deploy(&release, &parts).await?;
        if let Err(reason) = self.start_all(&release, &mut parts).await {
            self.abandon(&parts).await;
            return Err(reason);
        }
        if let Err(reason) = self.wait_ready_all(&mut parts, &release).await {
            self.abandon(&parts).await;
            return Err(reason);
        }
        if let Err(reason) = self.switch_all(&parts).await {
            self.switch_back(&parts).await;
            self.abandon(&parts).await;
            return Err(reason);
        }
        let new_serving: Vec<Serving> = parts.iter().filter_map(Part::serving).collect();
        self.save_slots(&new_serving).await;

        if let Some(reason) = self.watch(&parts, &release).await {
            self.roll_back(&parts, reason).await;
            return Ok(());
        }
        self.retire(&parts, &serving).await;
        self.finish(DeploymentStatus::Succeeded, None, Some(&new_serving))
            .await;
        notifications::notify(
            &state,
            NewNotification {
                level: "info",
                kind: "deployment_succeeded",
                title: format!("Release {} is live", self.d.release_number),
                body: format!(
                    "Deployment {} of release {} passed its health checks and serves traffic.",
                    self.d.id, self.d.release_number
                ),
                project_id: Some(self.d.project_id),
                service_id: None,
            },
        )
        .await;
        if let Err(e) = releases::prune(&state, self.d.project_id).await {
            tracing::warn!(project.id = self.d.project_id, error = %e, "could not prune releases");
        }
        Ok(())
    }

    /// Writes `progress` while this instance holds the deployment (false when it did not).
    async fn save(&self, progress: Progress) -> bool {
        repo::deployments::save(
            &self.state.db,
            self.d.id,
            &self.state.instance.id,
            self.fence,
            progress,
        )
        .await
        .unwrap_or(false)
    }

    async fn save_slots(&mut self, serving: &[Serving]) {
        self.save(Progress {
            slots: Some(serde_json::to_string(serving).unwrap_or_else(|_| "[]".into())),
            ..Default::default()
        })
        .await;
    }

    async fn finish(
        &mut self,
        status: DeploymentStatus,
        reason: Option<String>,
        serving: Option<&[Serving]>,
    ) {
        let council = self.settle_council(status, reason.as_deref()).await;
        let progress = Progress {
            council,
            status: Some(status),
            reason,
            steps: Some(serde_json::to_string(&self.steps).unwrap_or_else(|_| "[]".into())),
            slots: serving.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into())),
            finished_at: Some(Utc::now()),
            watch_until: Some(None),
        };
        let saved = crate::server::db::until_reachable("record a deployment's end", || {
            repo::deployments::save(
                &self.state.db,
                self.d.id,
                &self.state.instance.id,
                self.fence,
                progress.clone(),
            )
        })
        .await;
        if !matches!(saved, Ok(true)) {
            tracing::warn!(
                deployment.id = self.d.id,
                "could not record a deployment's end (lease lost?)"
            );
        }
        self.announce(status, None).await;
    }

    /// When the council was asked first, records how the deployment ended as the
    /// deliberation's outcome (`proceed` was right when it stayed healthy, `reject` when it
    /// failed or rolled back), so the personas' calibration learns from it; the verdict with
    /// its outcome, to keep.
    async fn settle_council(
        &self,
        status: DeploymentStatus,
        reason: Option<&str>,
    ) -> Option<String> {
        let mut verdict: CouncilVerdict = serde_json::from_str(self.d.council.as_deref()?).ok()?;
        let outcome = match status {
            DeploymentStatus::Succeeded => "proceed",
            _ => "reject",
        };
        let note = match reason {
            Some(r) => format!(
                "Deployment #{} of release {}: {r}",
                self.d.id, self.d.release_number
            ),
            None => format!(
                "Deployment #{} of release {} stayed healthy through its watch window",
                self.d.id, self.d.release_number
            ),
        };
        let recorded = council::record_observed_outcome(
            &self.state,
            crate::server::audit::Actor::default(),
            OutcomeRequest {
                id: verdict.deliberation_id,
                outcome: outcome.to_owned(),
                note: Some(note.chars().take(2000).collect()),
            },
        )
        .await;
        match recorded {
            Ok(()) => verdict.outcome = Some(outcome.to_owned()),
            Err(e) => tracing::warn!(
                deployment.id = self.d.id,
                error = %e,
                "could not record the council's outcome"
            ),
        }
        serde_json::to_string(&verdict).ok()
    }

    async fn announce(&self, status: DeploymentStatus, step: Option<String>) {
        self.state
            .bus
            .publish(Event::DeploymentChanged {
                deployment_id: self.d.id,
                project_id: self.d.project_id,
                release: self.d.release_number,
                status,
                step,
            })
            .await;
    }

    async fn step(&mut self, name: &str) -> usize {
        self.steps.push(DeployStep {
            name: name.to_owned(),
            status: "running".into(),
            detail: None,
            started_at: Some(Utc::now().to_rfc3339()),
            finished_at: None,
        });
        self.save_steps(name).await;
        self.steps.len() - 1
    }

    async fn done_step(&mut self, i: usize, detail: Option<String>) {
        self.end_step(i, "done", detail).await;
    }

    async fn fail_step(&mut self, i: usize, detail: String) {
        self.end_step(i, "failed", Some(detail)).await;
    }

    async fn end_step(&mut self, i: usize, status: &str, detail: Option<String>) {
        let Some(s) = self.steps.get_mut(i) else {
            return;
        };
        s.status = status.into();
        s.detail = detail.or(s.detail.take());
        s.finished_at = Some(Utc::now().to_rfc3339());
        let name = s.name.clone();
        self.save_steps(&name).await;
    }

    async fn save_steps(&self, step: &str) {
        self.save(Progress {
            steps: Some(serde_json::to_string(&self.steps).unwrap_or_else(|_| "[]".into())),
            ..Default::default()
        })
        .await;
        self.announce(DeploymentStatus::Running, Some(step.to_owned()))
            .await;
    }
}

impl Part {
    /// What serves for this service once the new instance took over.
    fn serving(&self) -> Option<Serving> {
        let new = self.new.as_ref()?;
        Some(Serving {
            service: self.def.name.clone(),
            instance: new.handle.clone(),
            port: new.port,
            public_port: self.def.public_port,
            hosts: self.def.public_hosts.clone(),
        })
    }
}

fn has_port(def: &ServiceDefinition) -> bool {
    def.port.is_some() || def.allocate_port
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// The services with each after those it depends on (a cycle, refused when defined, keeps
/// the rest in name order).
fn in_dependency_order(mut defs: Vec<ServiceDefinition>) -> Vec<ServiceDefinition> {
    defs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out: Vec<ServiceDefinition> = Vec::with_capacity(defs.len());
    while !defs.is_empty() {
        let ready = defs.iter().position(|d| {
            d.depends_on.iter().all(|dep| {
                out.iter().any(|o| &o.name == dep) || !defs.iter().any(|x| &x.name == dep)
            })
        });
        let next = defs.remove(ready.unwrap_or(0));
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_start_after_those_they_depend_on() {
        let mut web = ServiceDefinition::new("web", "x");
        web.depends_on = vec!["api".into()];
        let mut api = ServiceDefinition::new("api", "x");
        api.depends_on = vec!["db".into()];
        let db = ServiceDefinition::new("db", "x");
        let order: Vec<String> = in_dependency_order(vec![web, api, db])
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(order, ["db", "api", "web"]);
    }
}
