//! Drives one claimed deployment through its steps:
//!
//! 1. **Start**: each service of the release, in dependency order, as a new instance running in
//!    the release's folder. Blue-green gives it a fresh port beside the serving one; recreate
//!    stops the serving one first.
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
//! Every write is fenced: an instance that lost its lease changes nothing.

use super::entities::{deployment, release};
use super::repo::deployments::Progress;
use super::{proxy, releases, repo, Serving};
use crate::models::council::OutcomeRequest;
use crate::models::deployments::{
    CouncilVerdict, DeployPolicy, DeployStep, DeploymentStatus, Strategy,
};
use crate::models::events::Event;
use crate::models::runtime::{Probe, ProbeCheck, ServiceDefinition, ServiceState};
use crate::server::council;
use crate::server::notifications::{self, NewNotification};
use crate::server::runtime::{self, probes, slots::Slot};
use crate::server::AppState;
use chrono::Utc;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often the watch window looks at the new instances.
const WATCH_TICK: Duration = Duration::from_millis(250);

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
    new: Option<Slot>,
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
        if let Err(e) = releases::prune(&state, self.d.project_id).await {
            tracing::warn!(project.id = self.d.project_id, error = %e, "could not prune releases");
        }
        Ok(())
    }

    /// Starts each service's new instance (recreate: after stopping the serving one).
    async fn start_all(
        &mut self,
        release: &release::Model,
        parts: &mut [Part],
    ) -> Result<(), String> {
        let folder: PathBuf = releases::folder(&self.state, release);
        for part in parts.iter_mut() {
            let name = part.def.name.clone();
            if part.strategy == Strategy::Recreate {
                if let Some(old) = &part.old {
                    let i = self.step(&format!("stop {name} (release before)")).await;
                    if let Err(e) = runtime::slots::stop(&self.state, old.slot_id).await {
                        self.fail_step(i, e.to_string()).await;
                        return Err(format!("could not stop the serving `{name}`: {e}"));
                    }
                    self.done_step(i, None).await;
                }
            }
            let i = self.step(&format!("start {name}")).await;
            let fresh = part.strategy == Strategy::BlueGreen;
            let slot = match runtime::slots::create(
                &self.state,
                self.d.project_id,
                self.d.id,
                &part.def,
                &folder,
                fresh,
            )
            .await
            {
                Ok(s) => s,
                Err(e) => {
                    self.fail_step(i, e.to_string()).await;
                    return Err(format!("could not start `{name}`: {e}"));
                }
            };
            part.new = Some(slot.clone());
            if let Err(e) = runtime::slots::start(&self.state, slot.id).await {
                self.fail_step(i, e.to_string()).await;
                return Err(format!("could not start `{name}`: {e}"));
            }
            self.done_step(i, Some(format!("{} strategy", part.strategy.as_str())))
                .await;
        }
        Ok(())
    }

    /// Waits for each new instance; it is then read afresh (its port is known once started).
    async fn wait_ready_all(
        &mut self,
        parts: &mut [Part],
        release: &release::Model,
    ) -> Result<(), String> {
        for part in parts.iter_mut() {
            let Some(slot) = &part.new else { continue };
            let name = part.def.name.clone();
            let i = self.step(&format!("wait until {name} is ready")).await;
            match self.wait_ready(part, slot.id, release).await {
                Ok(ready) => {
                    let detail = ready.port.map(|p| format!("ready on port {p}"));
                    part.new = Some(ready);
                    self.done_step(i, detail).await;
                }
                Err(e) => {
                    self.fail_step(i, e.clone()).await;
                    return Err(format!("`{name}` did not become ready: {e}"));
                }
            }
        }
        Ok(())
    }

    /// Waits until the instance is up and passes its readiness check `ready_passes` times in a
    /// row; the instance as it is then.
    async fn wait_ready(
        &self,
        part: &Part,
        slot_id: i64,
        release: &release::Model,
    ) -> Result<Slot, String> {
        let policy: &DeployPolicy = &part.def.deploy;
        let deadline = Instant::now() + Duration::from_secs(u64::from(policy.ready_timeout_secs));
        let mut passes = 0u32;
        let mut last_error = String::from("not started yet");
        loop {
            if Instant::now() > deadline {
                return Err(format!(
                    "not ready within {} s (last: {last_error})",
                    policy.ready_timeout_secs
                ));
            }
            let slot = runtime::slots::get(&self.state, slot_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("its instance is gone")?;
            match slot.state {
                ServiceState::Failed
                | ServiceState::CrashLoop
                | ServiceState::Exited
                | ServiceState::Stopped => {
                    return Err(format!(
                        "it {}{}",
                        slot.state.as_str(),
                        slot.message.map(|m| format!(": {m}")).unwrap_or_default()
                    ))
                }
                ServiceState::Ready | ServiceState::Starting | ServiceState::Unhealthy => {
                    match self.check(part, &slot, release).await {
                        Ok(()) => passes += 1,
                        Err(e) => {
                            passes = 0;
                            last_error = e;
                        }
                    }
                    if passes >= policy.ready_passes {
                        return Ok(slot);
                    }
                }
                _ => passes = 0,
            }
            tokio::time::sleep(interval(part)).await;
        }
    }

    /// One readiness check of an instance: its readiness probe, else a connection to its port,
    /// else (no port) that the runtime counts it ready.
    async fn check(
        &self,
        part: &Part,
        slot: &Slot,
        release: &release::Model,
    ) -> Result<(), String> {
        let probe = match (&part.def.probes.readiness, slot.port) {
            (Some(p), _) => p.clone(),
            (None, Some(_)) => Probe {
                check: ProbeCheck::Tcp,
                interval_ms: 250,
                timeout_ms: 1000,
                failure_threshold: 1,
            },
            _ => {
                return if slot.state == ServiceState::Ready {
                    Ok(())
                } else {
                    Err(format!("it is {}", slot.state.as_str()))
                }
            }
        };
        let cwd = releases::folder(&self.state, release).join(&part.def.cwd);
        let target = probes::Target {
            port: slot.port,
            cwd: &cwd,
            log_matched: false,
        };
        probes::check(&probe, &self.http, &target).await
    }

    /// Points each public port at its new instance.
    async fn switch_all(&mut self, parts: &[Part]) -> Result<(), String> {
        for part in parts {
            let (Some(public), Some(slot)) = (part.def.public_port, &part.new) else {
                continue;
            };
            let Some(port) = slot.port else { continue };
            let name = &part.def.name;
            let i = self.step(&format!("switch {name}")).await;
            let route = proxy::route_name(self.d.project_id, name);
            match proxy::switch(
                &self.state,
                &route,
                public,
                &part.def.public_hosts,
                local(port),
            )
            .await
            {
                Ok(_) => {
                    self.done_step(i, Some(format!(":{public} → :{port}")))
                        .await;
                }
                Err(e) => {
                    self.fail_step(i, e.clone()).await;
                    return Err(format!("could not switch `{name}`: {e}"));
                }
            }
        }
        Ok(())
    }

    /// Watches the new instances for the watch window; why to roll back, if it comes to that.
    async fn watch(&mut self, parts: &[Part], release: &release::Model) -> Option<String> {
        let secs = parts
            .iter()
            .map(|p| p.def.deploy.watch_secs)
            .max()
            .unwrap_or(0);
        let until = Utc::now() + chrono::Duration::seconds(i64::from(secs));
        let i = self.step(&format!("watch for {secs} s")).await;
        self.save(Progress {
            watch_until: Some(Some(until)),
            ..Default::default()
        })
        .await;
        let end = Instant::now() + Duration::from_secs(u64::from(secs));
        let mut failures: HashMap<i64, (u32, Instant)> = HashMap::new();
        while Instant::now() < end {
            tokio::time::sleep(WATCH_TICK).await;
            for part in parts {
                let Some(new) = &part.new else { continue };
                if let Some(reason) = self.judge(part, new, release, &mut failures).await {
                    self.fail_step(i, reason.clone()).await;
                    return Some(reason);
                }
            }
        }
        self.done_step(i, Some("healthy throughout".into())).await;
        None
    }

    /// Whether an instance under watch has failed: crashed, failed its readiness check too many
    /// times in a row, or answered too many 5xx through the proxy.
    async fn judge(
        &self,
        part: &Part,
        new: &Slot,
        release: &release::Model,
        failures: &mut HashMap<i64, (u32, Instant)>,
    ) -> Option<String> {
        let name = &part.def.name;
        let slot = match runtime::slots::get(&self.state, new.id).await {
            Ok(Some(s)) => s,
            Ok(None) => return Some(format!("`{name}` is gone")),
            Err(_) => return None,
        };
        if slot.restarts > new.restarts
            || matches!(
                slot.state,
                ServiceState::Failed
                    | ServiceState::CrashLoop
                    | ServiceState::Backoff
                    | ServiceState::Exited
                    | ServiceState::Stopped
            )
        {
            return Some(format!(
                "`{name}` crashed ({}{})",
                slot.state.as_str(),
                slot.message.map(|m| format!(": {m}")).unwrap_or_default()
            ));
        }
        let policy = &part.def.deploy;
        let (count, next) = failures.entry(new.id).or_insert((0, Instant::now()));
        if Instant::now() >= *next {
            *next = Instant::now() + interval(part);
            match self.check(part, &slot, release).await {
                Ok(()) => *count = 0,
                Err(e) => {
                    *count += 1;
                    if *count >= policy.max_ready_failures {
                        return Some(format!(
                            "`{name}` failed its readiness check {count} times in a row ({e})"
                        ));
                    }
                }
            }
        }
        let port = slot.port?;
        part.def.public_port?;
        let route = proxy::route_name(self.d.project_id, name);
        let s = proxy::stats(&self.state, &route, local(port)).await?;
        let answered = s.status_2xx + s.status_3xx + s.status_4xx + s.status_5xx + s.failed;
        let bad = s.status_5xx + s.failed;
        if answered >= u64::from(policy.min_requests)
            && bad * 100 >= u64::from(policy.max_5xx_percent) * answered
        {
            return Some(format!(
                "`{name}` answered {bad} of {answered} requests with 5xx (limit {} %)",
                policy.max_5xx_percent
            ));
        }
        None
    }

    /// Sends traffic back to the instances serving before, stops the new ones, and records
    /// the automatic rollback as its own entry.
    async fn roll_back(&mut self, parts: &[Part], reason: String) {
        let i = self.step("roll back").await;
        let back_ok = self.switch_back(parts).await;
        self.abandon(parts).await;
        self.done_step(
            i,
            Some(if back_ok {
                "traffic is back on the release before".into()
            } else {
                "traffic could not be sent back everywhere; see the steps".into()
            }),
        )
        .await;
        self.finish(DeploymentStatus::RolledBack, Some(reason.clone()), None)
            .await;
        let old = self.before.clone();
        if let Some(previous) = self.d.previous_release_id {
            super::deploying::record_automatic_rollback(
                &self.state,
                &self.d,
                previous,
                &old,
                &reason,
            )
            .await;
        }
        notifications::notify(
            &self.state,
            NewNotification {
                level: "error",
                kind: "deployment_rolled_back",
                title: format!("Release {} was rolled back", self.d.release_number),
                body: format!("{reason}. Traffic went back to the release before."),
                project_id: Some(self.d.project_id),
                service_id: None,
            },
        )
        .await;
    }

    /// Points each public port back at the instance that served before (starting it again
    /// when recreate had stopped it). False when one could not be.
    async fn switch_back(&mut self, parts: &[Part]) -> bool {
        let mut ok = true;
        for part in parts {
            let Some(old) = &part.old else { continue };
            let name = &part.def.name;
            let running = runtime::slots::get(&self.state, old.slot_id)
                .await
                .ok()
                .flatten();
            let alive = running
                .as_ref()
                .is_some_and(|s| matches!(s.state, ServiceState::Ready | ServiceState::Starting));
            if !alive {
                if let Some(new) = &part.new {
                    let _ = runtime::slots::stop(&self.state, new.id).await;
                }
                let i = self
                    .step(&format!("start {name} (release before) again"))
                    .await;
                match runtime::slots::start(&self.state, old.slot_id).await {
                    Ok(()) => self.done_step(i, None).await,
                    Err(e) => {
                        ok = false;
                        self.fail_step(i, e.to_string()).await;
                        continue;
                    }
                }
            }
            let (Some(public), Some(port)) = (old.public_port, old.port) else {
                continue;
            };
            let route = proxy::route_name(self.d.project_id, name);
            if let Err(e) =
                proxy::switch(&self.state, &route, public, &old.hosts, local(port)).await
            {
                ok = false;
                let i = self.step(&format!("switch {name} back")).await;
                self.fail_step(i, e).await;
            }
        }
        ok
    }

    /// Removes the new instances (a failed or rolled-back deployment), and starts again the
    /// serving ones recreate had stopped.
    async fn abandon(&mut self, parts: &[Part]) {
        for part in parts {
            if let Some(new) = &part.new {
                if let Err(e) = runtime::slots::remove(&self.state, new.id).await {
                    tracing::warn!(slot = new.id, error = %e, "could not remove a new instance");
                }
            }
            if part.strategy == Strategy::Recreate {
                if let Some(old) = &part.old {
                    let stopped = runtime::slots::get(&self.state, old.slot_id)
                        .await
                        .ok()
                        .flatten()
                        .is_some_and(|s| !s.state.is_active());
                    if stopped {
                        let _ = runtime::slots::start(&self.state, old.slot_id).await;
                    }
                }
            }
        }
    }

    /// Lets the old instances finish what they serve (up to `drain_secs`), then stops them.
    async fn retire(&mut self, parts: &[Part], serving: &[Serving]) {
        for old in serving {
            let part = parts.iter().find(|p| p.def.name == old.service);
            if part.and_then(|p| p.new.as_ref()).map(|s| s.id) == Some(old.slot_id) {
                continue;
            }
            let i = self
                .step(&format!("stop {} (release before)", old.service))
                .await;
            if let (Some(port), Some(_)) = (old.port, old.public_port) {
                let drain = part.map(|p| p.def.deploy.drain_secs).unwrap_or(30);
                let route = proxy::route_name(self.d.project_id, &old.service);
                let end = Instant::now() + Duration::from_secs(u64::from(drain));
                while Instant::now() < end {
                    match proxy::stats(&self.state, &route, local(port)).await {
                        Some(s) if s.in_flight + s.tunnels > 0 => {
                            tokio::time::sleep(Duration::from_millis(100)).await
                        }
                        _ => break,
                    }
                }
            }
            match runtime::slots::remove(&self.state, old.slot_id).await {
                Ok(()) => self.done_step(i, None).await,
                Err(e) => self.fail_step(i, e.to_string()).await,
            }
            if part.and_then(|p| p.def.public_port).is_none() && old.public_port.is_some() {
                let route = proxy::route_name(self.d.project_id, &old.service);
                let _ = proxy::remove(&self.state, &route).await;
            }
        }
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
            slot_id: new.id,
            port: new.port,
            public_port: self.def.public_port,
            hosts: self.def.public_hosts.clone(),
        })
    }
}

fn has_port(def: &ServiceDefinition) -> bool {
    def.port.is_some() || def.allocate_port
}

/// Time between readiness checks: the probe's interval, at most 1 s.
fn interval(part: &Part) -> Duration {
    let ms = part
        .def
        .probes
        .readiness
        .as_ref()
        .map(|p| p.interval_ms)
        .unwrap_or(250);
    Duration::from_millis(ms.clamp(50, 1000))
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
