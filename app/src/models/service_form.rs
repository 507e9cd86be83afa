//! The service editor's fields as text, and their translation to and from a
//! [`ServiceDefinition`]. The browser form and its tests share these rules; the server checks
//! the resulting definition again.

use crate::models::runtime::{
    AlertMetric, AlertRule, Probe, ProbeCheck, RestartMode, ServiceDefinition,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the form shows: every field as the text typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceForm {
    /// Name.
    pub name: String,
    /// Command line.
    pub command: String,
    /// Folder inside the project.
    pub cwd: String,
    /// `none`, `auto` or `fixed`.
    pub port_mode: String,
    /// The fixed port.
    pub port: String,
    /// `KEY=VALUE` per line.
    pub env: String,
    /// Names, comma-separated.
    pub depends_on: String,
    /// `none`, `http`, `tcp`, `exec` or `log`.
    pub readiness_kind: String,
    /// The path, command or pattern of the readiness probe.
    pub readiness_target: String,
    /// Same as readiness.
    pub liveness_kind: String,
    /// Same as readiness.
    pub liveness_target: String,
    /// `never`, `on-failure` or `always`.
    pub restart: String,
    /// Restarts in a row before crash loop.
    pub max_retries: String,
    /// Milliseconds between SIGTERM and SIGKILL.
    pub grace_ms: String,
    /// MiB, empty for none.
    pub memory_mb: String,
    /// Percent of a core, empty for none.
    pub cpu_percent: String,
    /// Files, empty for none.
    pub open_files: String,
    /// `memory > 512 for 30` / `cpu > 90 for 60` per line.
    pub alerts: String,
}

fn probe_text(p: &Option<Probe>) -> (String, String) {
    match p.as_ref().map(|p| &p.check) {
        None => ("none".into(), String::new()),
        Some(ProbeCheck::Http { path, .. }) => ("http".into(), path.clone()),
        Some(ProbeCheck::Tcp) => ("tcp".into(), String::new()),
        Some(ProbeCheck::Exec { command }) => ("exec".into(), command.clone()),
        Some(ProbeCheck::LogLine { pattern }) => ("log".into(), pattern.clone()),
    }
}

/// The probe the form describes; the base's timing is kept when the check is unchanged.
fn probe_from(
    kind: &str,
    target: &str,
    base: &Option<Probe>,
    field: &'static str,
) -> Result<Option<Probe>, (&'static str, String)> {
    let target = target.trim().to_owned();
    let check = match kind {
        "" | "none" => return Ok(None),
        "http" => ProbeCheck::Http {
            path: if target.is_empty() {
                "/".into()
            } else {
                target
            },
            status: None,
            body: None,
        },
        "tcp" => ProbeCheck::Tcp,
        "exec" if !target.is_empty() => ProbeCheck::Exec { command: target },
        "log" if !target.is_empty() => ProbeCheck::LogLine { pattern: target },
        "exec" | "log" => return Err((field, "needs a command or pattern".into())),
        other => return Err((field, format!("unknown probe kind `{other}`"))),
    };
    if let Some(b) = base.as_ref().filter(|b| same_kind(&b.check, &check)) {
        let mut kept = b.clone();
        if let (ProbeCheck::Http { path, .. }, ProbeCheck::Http { path: new, .. }) =
            (&mut kept.check, &check)
        {
            path.clone_from(new);
        } else {
            kept.check = check;
        }
        return Ok(Some(kept));
    }
    Ok(Some(Probe {
        check,
        interval_ms: 1000,
        timeout_ms: 1000,
        failure_threshold: 3,
    }))
}

fn same_kind(a: &ProbeCheck, b: &ProbeCheck) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn optional<T: std::str::FromStr>(
    text: &str,
    field: &'static str,
) -> Result<Option<T>, (&'static str, String)> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| (field, format!("`{t}` is not a whole number")))
}

/// Parses one alert line: `memory > 512 for 30` (`for` optional, seconds; `s` allowed).
pub fn parse_alert(line: &str) -> Result<AlertRule, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (metric, above, rest) = match words.as_slice() {
        [m, ">", v, rest @ ..] => (*m, *v, rest),
        _ => return Err(format!("`{line}`: write it as `memory > 512 for 30`")),
    };
    let metric = match metric {
        "memory" => AlertMetric::Memory,
        "cpu" => AlertMetric::Cpu,
        other => return Err(format!("`{other}`: the metric is memory or cpu")),
    };
    let above: f64 = above
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{above}` is not a number"))?;
    let for_secs = match rest {
        [] => 30,
        ["for", secs] => secs
            .trim_end_matches('s')
            .parse()
            .map_err(|_| format!("`{secs}` is not a number of seconds"))?,
        _ => return Err(format!("`{line}`: write it as `memory > 512 for 30`")),
    };
    Ok(AlertRule {
        metric,
        above,
        for_secs,
    })
}

impl ServiceForm {
    /// The form filled from a definition.
    pub fn from_definition(d: &ServiceDefinition) -> Self {
        let (readiness_kind, readiness_target) = probe_text(&d.probes.readiness);
        let (liveness_kind, liveness_target) = probe_text(&d.probes.liveness);
        let port_mode = if d.allocate_port {
            "auto"
        } else if d.port.is_some() {
            "fixed"
        } else {
            "none"
        };
        Self {
            name: d.name.clone(),
            command: d.command.clone(),
            cwd: d.cwd.clone(),
            port_mode: port_mode.into(),
            port: d.port.map(|p| p.to_string()).unwrap_or_default(),
            env: d
                .env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\n"),
            depends_on: d.depends_on.join(", "),
            readiness_kind,
            readiness_target,
            liveness_kind,
            liveness_target,
            restart: d.restart.mode.as_str().into(),
            max_retries: d.restart.max_retries.to_string(),
            grace_ms: d.grace_ms.to_string(),
            memory_mb: d
                .limits
                .memory_mb
                .map(|v| v.to_string())
                .unwrap_or_default(),
            cpu_percent: d
                .limits
                .cpu_percent
                .map(|v| v.to_string())
                .unwrap_or_default(),
            open_files: d
                .limits
                .open_files
                .map(|v| v.to_string())
                .unwrap_or_default(),
            alerts: d
                .alerts
                .iter()
                .map(|a| format!("{} > {} for {}", a.metric.as_str(), a.above, a.for_secs))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// An empty form for a new service.
    pub fn new_service() -> Self {
        Self {
            cwd: ".".into(),
            port_mode: "auto".into(),
            readiness_kind: "none".into(),
            liveness_kind: "none".into(),
            restart: "on-failure".into(),
            max_retries: "5".into(),
            grace_ms: "5000".into(),
            ..Default::default()
        }
    }

    /// The definition the form describes, on top of `base` (what is not on the form is kept).
    /// The error names the field.
    pub fn to_definition(
        &self,
        base: Option<&ServiceDefinition>,
    ) -> Result<ServiceDefinition, (&'static str, String)> {
        let mut d = base
            .cloned()
            .unwrap_or_else(|| ServiceDefinition::new(String::new(), String::new()));
        d.name = self.name.trim().to_owned();
        d.command = self.command.trim().to_owned();
        d.cwd = match self.cwd.trim() {
            "" => ".".into(),
            c => c.to_owned(),
        };
        match self.port_mode.as_str() {
            "auto" => {
                d.allocate_port = true;
                d.port = None;
            }
            "fixed" => {
                d.allocate_port = false;
                d.port = Some(
                    self.port
                        .trim()
                        .parse()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or(("port", "must be a port number 1–65535".to_owned()))?,
                );
            }
            _ => {
                d.allocate_port = false;
                d.port = None;
            }
        }
        let mut env = BTreeMap::new();
        for line in self.env.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (k, v) = line
                .split_once('=')
                .ok_or(("env", format!("`{line}`: write KEY=VALUE")))?;
            env.insert(k.trim().to_owned(), v.to_owned());
        }
        d.env = env;
        d.depends_on = self
            .depends_on
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        d.probes.readiness = probe_from(
            &self.readiness_kind,
            &self.readiness_target,
            &d.probes.readiness,
            "readiness",
        )?;
        d.probes.liveness = probe_from(
            &self.liveness_kind,
            &self.liveness_target,
            &d.probes.liveness,
            "liveness",
        )?;
        d.restart.mode = match self.restart.as_str() {
            "never" => RestartMode::Never,
            "always" => RestartMode::Always,
            _ => RestartMode::OnFailure,
        };
        if let Some(n) = optional(&self.max_retries, "max_retries")? {
            d.restart.max_retries = n;
        }
        if let Some(n) = optional(&self.grace_ms, "grace_ms")? {
            d.grace_ms = n;
        }
        d.limits.memory_mb = optional(&self.memory_mb, "memory_mb")?;
        d.limits.cpu_percent = optional(&self.cpu_percent, "cpu_percent")?;
        d.limits.open_files = optional(&self.open_files, "open_files")?;
        d.alerts = self
            .alerts
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(parse_alert)
            .collect::<Result<_, _>>()
            .map_err(|e| ("alerts", e))?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_form_becomes_a_definition_with_an_allocated_port() {
        let mut f = ServiceForm::new_service();
        f.name = "web".into();
        f.command = "python3 -m http.server $PORT".into();
        f.env = "A=1\nB = two=2\n".into();
        f.readiness_kind = "http".into();
        f.readiness_target = "/health".into();
        f.memory_mb = "256".into();
        f.alerts = "memory > 200 for 10s\ncpu > 90".into();
        let d = f.to_definition(None);
        assert!(d.is_ok(), "{d:?}");
        let Ok(d) = d else { return };
        assert!(d.allocate_port);
        assert_eq!(d.env.get("B").map(String::as_str), Some(" two=2"));
        assert!(matches!(
            d.probes.readiness.map(|p| p.check),
            Some(ProbeCheck::Http { path, .. }) if path == "/health"
        ));
        assert_eq!(d.limits.memory_mb, Some(256));
        assert_eq!(d.alerts.len(), 2);
        assert_eq!(d.alerts[0].for_secs, 10);
        assert_eq!(d.alerts[1].for_secs, 30);
    }

    #[test]
    fn a_definition_round_trips_through_the_form_keeping_probe_timing() {
        let mut f = ServiceForm::new_service();
        f.name = "api".into();
        f.command = "run".into();
        f.port_mode = "fixed".into();
        f.port = "8080".into();
        f.liveness_kind = "tcp".into();
        let d = f.to_definition(None);
        assert!(d.is_ok(), "{d:?}");
        let Ok(mut d) = d else { return };
        if let Some(p) = d.probes.liveness.as_mut() {
            p.interval_ms = 250;
        }
        let again = ServiceForm::from_definition(&d).to_definition(Some(&d));
        assert_eq!(again, Ok(d));
    }

    #[test]
    fn bad_fields_are_named() {
        let mut f = ServiceForm::new_service();
        f.port_mode = "fixed".into();
        f.port = "http".into();
        assert_eq!(f.to_definition(None).map_err(|e| e.0), Err("port"));
        let mut f = ServiceForm::new_service();
        f.env = "NOEQUALS".into();
        assert_eq!(f.to_definition(None).map_err(|e| e.0), Err("env"));
        let mut f = ServiceForm::new_service();
        f.alerts = "disk > 3".into();
        assert_eq!(f.to_definition(None).map_err(|e| e.0), Err("alerts"));
        let mut f = ServiceForm::new_service();
        f.memory_mb = "lots".into();
        assert_eq!(f.to_definition(None).map_err(|e| e.0), Err("memory_mb"));
    }
}
