//! After the cutover: the watch window, automatic rollback, and retiring or abandoning
//! instances.

use super::cutover::interval;
use super::{local, Drive, Instance, Part};
use crate::models::deployments::{DeploymentStatus, Strategy};
use crate::models::runtime::ServiceState;
use crate::server::deployments::entities::release;
use crate::server::deployments::repo::deployments::Progress;
use crate::server::deployments::targets;
use crate::server::deployments::{proxy, Serving};
use crate::server::notifications::{self, NewNotification};
use chrono::Utc;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often the watch window looks at the new instances.
const WATCH_TICK: Duration = Duration::from_millis(250);

impl Drive {
    /// Watches the new instances for the watch window; why to roll back, if it comes to that.
    pub(super) async fn watch(
        &mut self,
        parts: &[Part],
        release: &release::Model,
    ) -> Option<String> {
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
        let mut failures: HashMap<String, (u32, Instant)> = HashMap::new();
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
    pub(super) async fn judge(
        &self,
        part: &Part,
        new: &Instance,
        release: &release::Model,
        failures: &mut HashMap<String, (u32, Instant)>,
    ) -> Option<String> {
        let name = &part.def.name;
        let slot = match targets::seen(&self.state, &new.handle).await {
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
        let (count, next) = failures.entry(name.clone()).or_insert((0, Instant::now()));
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
    pub(super) async fn roll_back(&mut self, parts: &[Part], reason: String) {
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
        // Its own entry and the notification first: whoever sees this deployment `rolled_back`
        // finds both.
        let old = self.before.clone();
        if let Some(previous) = self.d.previous_release_id {
            crate::server::deployments::deploying::record_automatic_rollback(
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
        self.finish(DeploymentStatus::RolledBack, Some(reason), None)
            .await;
    }

    /// Points each public port back at the instance that served before (starting it again
    /// when recreate had stopped it). False when one could not be.
    pub(super) async fn switch_back(&mut self, parts: &[Part]) -> bool {
        let mut ok = true;
        for part in parts {
            let Some(old) = &part.old else { continue };
            let name = &part.def.name;
            let running = targets::seen(&self.state, &old.instance)
                .await
                .ok()
                .flatten();
            let alive = running
                .as_ref()
                .is_some_and(|s| matches!(s.state, ServiceState::Ready | ServiceState::Starting));
            if !alive {
                if let Some(new) = &part.new {
                    let _ = targets::stop(&self.state, &new.handle, part.def.grace_ms).await;
                }
                let i = self
                    .step(&format!("start {name} (release before) again"))
                    .await;
                match targets::resume(&self.state, &old.instance).await {
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
    pub(super) async fn abandon(&mut self, parts: &[Part]) {
        for part in parts {
            if let Some(new) = &part.new {
                if let Err(e) = targets::remove(&self.state, &new.handle, part.def.grace_ms).await {
                    tracing::warn!(instance = %new.handle.describe(), error = %e, "could not remove a new instance");
                }
            }
            if part.strategy == Strategy::Recreate {
                if let Some(old) = &part.old {
                    let stopped = targets::seen(&self.state, &old.instance)
                        .await
                        .ok()
                        .flatten()
                        .is_some_and(|s| !s.state.is_active());
                    if stopped {
                        let _ = targets::resume(&self.state, &old.instance).await;
                    }
                }
            }
        }
    }

    /// Lets the old instances finish what they serve (up to `drain_secs`), then stops them.
    pub(super) async fn retire(&mut self, parts: &[Part], serving: &[Serving]) {
        for old in serving {
            let part = parts.iter().find(|p| p.def.name == old.service);
            if part.and_then(|p| p.new.as_ref()).map(|n| &n.handle) == Some(&old.instance) {
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
            let grace = part.map(|p| p.def.grace_ms).unwrap_or(5000);
            match targets::remove(&self.state, &old.instance, grace).await {
                Ok(()) => self.done_step(i, None).await,
                Err(e) => self.fail_step(i, e.to_string()).await,
            }
            if part.and_then(|p| p.def.public_port).is_none() && old.public_port.is_some() {
                let route = proxy::route_name(self.d.project_id, &old.service);
                let _ = proxy::remove(&self.state, &route).await;
            }
        }
    }
}
