//! Up to the cutover: starting the new instances, waiting until each is ready, switching the
//! proxy to them.

use super::{local, Drive, Instance, Part};
use crate::models::deployments::{DeployPolicy, Strategy};
use crate::models::runtime::{Probe, ProbeCheck, ServiceState};
use crate::server::backups;
use crate::server::deployments::entities::release;
use crate::server::deployments::targets::{self, Handle, Launch, Seen};
use crate::server::deployments::{proxy, releases};
use crate::server::runtime::probes;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

impl Drive {
    /// What a target starts `part` of this deployment from.
    fn launch<'a>(
        &self,
        release: &'a release::Model,
        folder: &'a Path,
        part: &'a Part,
        beside: bool,
    ) -> Launch<'a> {
        Launch {
            project_id: self.d.project_id,
            deployment_id: self.d.id,
            release,
            folder,
            def: &part.def,
            beside,
        }
    }

    /// Checks the project's newest good backup is recent enough for every service that asks
    /// (`require_backup_hours`), before anything runs.
    async fn backup_required(&mut self, parts: &[Part]) -> Result<(), String> {
        let Some((name, hours)) = parts
            .iter()
            .filter_map(|p| {
                p.def
                    .deploy
                    .require_backup_hours
                    .map(|h| (p.def.name.clone(), h))
            })
            .min_by_key(|(_, h)| *h)
        else {
            return Ok(());
        };
        let i = self.step("backup check").await;
        let found = backups::snapshots::state_of_project(&self.state.db, self.d.project_id).await;
        let why = match found {
            Err(e) => format!("the project's backups could not be read: {e}"),
            Ok(None) => "the project has no backup policy".to_owned(),
            Ok(Some(b)) => match b.last_good_at {
                None => "the project has no good backup".to_owned(),
                Some(at) => {
                    let age = chrono::Utc::now() - at;
                    if age <= chrono::Duration::hours(i64::from(hours)) {
                        let detail = format!(
                            "newest good backup {} minute(s) old (at most {hours} h)",
                            age.num_minutes()
                        );
                        self.done_step(i, Some(detail)).await;
                        return Ok(());
                    }
                    format!("the newest good backup is {} hour(s) old", age.num_hours())
                }
            },
        };
        let why = format!("`{name}` requires a backup at most {hours} h old, and {why}: back the project up first");
        self.fail_step(i, why.clone()).await;
        Err(why)
    }

    /// Runs each service's pre-deploy command (a migration, say) in dependency order, before
    /// any instance starts: one that fails or overruns fails the deployment with nothing
    /// started. A service requiring a recent backup is checked first.
    pub(super) async fn pre_deploy(
        &mut self,
        release: &release::Model,
        parts: &[Part],
    ) -> Result<(), String> {
        self.backup_required(parts).await?;
        let folder: PathBuf = releases::folder(&self.state, release);
        for part in parts {
            let Some(command) = part.def.deploy.pre_deploy.clone() else {
                continue;
            };
            let name = part.def.name.clone();
            let i = self.step(&format!("pre-deploy {name}")).await;
            let launch = self.launch(release, &folder, part, false);
            let timeout = Duration::from_secs(u64::from(part.def.deploy.pre_deploy_timeout_secs));
            match targets::run_once(&self.state, &launch, &command, timeout).await {
                Ok(detail) => self.done_step(i, Some(detail)).await,
                Err(e) => {
                    self.fail_step(i, e.clone()).await;
                    return Err(format!("the pre-deploy command of `{name}` failed: {e}"));
                }
            }
        }
        Ok(())
    }

    /// Starts each service's new instance (recreate: after stopping the serving one).
    pub(super) async fn start_all(
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
                    if let Err(e) =
                        targets::stop(&self.state, &old.instance, part.def.grace_ms).await
                    {
                        self.fail_step(i, e.to_string()).await;
                        return Err(format!("could not stop the serving `{name}`: {e}"));
                    }
                    self.done_step(i, None).await;
                }
            }
            let i = self.step(&format!("start {name}")).await;
            let beside = part.strategy == Strategy::BlueGreen;
            let launch = self.launch(release, &folder, part, beside);
            match targets::start(&self.state, &launch).await {
                Ok(handle) => {
                    part.new = Some(Instance {
                        handle,
                        port: None,
                        restarts: 0,
                    })
                }
                Err(e) => {
                    self.fail_step(i, e.clone()).await;
                    return Err(format!("could not start `{name}`: {e}"));
                }
            }
            let detail = format!(
                "{} strategy, {} target",
                part.strategy.as_str(),
                part.def.deploy.target.as_str()
            );
            self.done_step(i, Some(detail)).await;
        }
        Ok(())
    }

    /// Waits for each new instance; it is then read afresh (its port is known once started).
    pub(super) async fn wait_ready_all(
        &mut self,
        parts: &mut [Part],
        release: &release::Model,
    ) -> Result<(), String> {
        for part in parts.iter_mut() {
            let Some(new) = part.new.clone() else {
                continue;
            };
            let name = part.def.name.clone();
            let i = self.step(&format!("wait until {name} is ready")).await;
            match self.wait_ready(part, &new.handle, release).await {
                Ok(ready) => {
                    let detail = ready.port.map(|p| format!("ready on port {p}"));
                    part.new = Some(Instance {
                        handle: new.handle,
                        port: ready.port,
                        restarts: ready.restarts,
                    });
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
    pub(super) async fn wait_ready(
        &self,
        part: &Part,
        handle: &Handle,
        release: &release::Model,
    ) -> Result<Seen, String> {
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
            let slot = targets::seen(&self.state, handle)
                .await?
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
    pub(super) async fn check(
        &self,
        part: &Part,
        slot: &Seen,
        release: &release::Model,
    ) -> Result<(), String> {
        if slot.self_checked {
            return match slot.state {
                ServiceState::Ready => Ok(()),
                other => Err(slot
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("its health check says {}", other.as_str()))),
            };
        }
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
    pub(super) async fn switch_all(&mut self, parts: &[Part]) -> Result<(), String> {
        for part in parts {
            let (Some(public), Some(new)) = (part.def.public_port, &part.new) else {
                continue;
            };
            let Some(port) = new.port else { continue };
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
}

/// Time between readiness checks: the probe's interval, at most 1 s.
pub(super) fn interval(part: &Part) -> Duration {
    let ms = part
        .def
        .probes
        .readiness
        .as_ref()
        .map(|p| p.interval_ms)
        .unwrap_or(250);
    Duration::from_millis(ms.clamp(50, 1000))
}
