//! Health probes: one check at a time, with a timeout. The supervisor counts results and turns
//! them into state changes.

use crate::models::runtime::{Probe, ProbeCheck};
use std::path::Path;
use std::time::Duration;

/// What a check needs to know about the run.
pub struct Target<'a> {
    /// The service's port.
    pub port: Option<u16>,
    /// Its working directory (exec probes run there).
    pub cwd: &'a Path,
    /// Whether a log line has matched the probe's pattern during this run.
    pub log_matched: bool,
}

/// Runs one check. `Err` says why it failed.
pub async fn check(
    probe: &Probe,
    http: &reqwest::Client,
    target: &Target<'_>,
) -> Result<(), String> {
    let timeout = Duration::from_millis(probe.timeout_ms.max(10));
    let port = || {
        target
            .port
            .ok_or_else(|| "the service has no port".to_owned())
    };
    match &probe.check {
        ProbeCheck::Tcp => {
            let port = port()?;
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(("127.0.0.1", port)))
                .await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(format!("tcp {port}: {e}")),
                Err(_) => Err(format!(
                    "tcp {port}: no answer within {} ms",
                    timeout.as_millis()
                )),
            }
        }
        ProbeCheck::Http { path, status, body } => {
            let port = port()?;
            let url = format!("http://127.0.0.1:{port}{path}");
            let res = http
                .get(&url)
                .timeout(timeout)
                .send()
                .await
                .map_err(|e| format!("GET {path}: {}", without_url(e)))?;
            let got = res.status().as_u16();
            let status_ok = match status {
                Some(want) => got == *want,
                None => (200..400).contains(&got),
            };
            if !status_ok {
                return Err(format!("GET {path}: status {got}"));
            }
            if let Some(want) = body {
                let text = res
                    .text()
                    .await
                    .map_err(|e| format!("GET {path}: {}", without_url(e)))?;
                if !text.contains(want.as_str()) {
                    return Err(format!("GET {path}: body lacks `{want}`"));
                }
            }
            Ok(())
        }
        ProbeCheck::Exec { command } => {
            let child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(target.cwd)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .status();
            match tokio::time::timeout(timeout, child).await {
                Ok(Ok(s)) if s.success() => Ok(()),
                Ok(Ok(s)) => Err(format!("`{command}` exited with {s}")),
                Ok(Err(e)) => Err(format!("`{command}`: {e}")),
                Err(_) => Err(format!(
                    "`{command}` took longer than {} ms",
                    timeout.as_millis()
                )),
            }
        }
        ProbeCheck::LogLine { pattern } => {
            if target.log_matched {
                Ok(())
            } else {
                Err(format!("no output line matched `{pattern}` yet"))
            }
        }
    }
}

/// The error and its causes, without the URL (the path is already in the message).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
