//! Repositories on a remote server. Optimus runs Debian's `rclone serve restic` for the time a
//! repository is open: rclone reaches the server (SFTP) and serves the repository as restic's
//! REST protocol on loopback, behind a user and password made up for that one run; rustic
//! speaks to it through [`Rest`]. The server's credentials reach rclone only through its
//! environment, never its command line.
//!
//! Plain `restic` opens the same repository as `rclone::sftp:<path>` with the environment
//! [`restic_env`] gives.

use crate::models::backups::BackupRemote;
use bytes::Bytes;
use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RepositoryBackends, RusticError, RusticResult,
    WriteBackend,
};
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long rclone may take to reach the server and start serving (it retries a failing
/// connection for about ten seconds before giving up).
const START_WITHIN: Duration = Duration::from_secs(60);
/// How often a request is tried (with pauses of 0.5, 1, 2 and 4 s between).
const ATTEMPTS: u32 = 5;
/// What rclone prints once it serves.
const SERVING: &str = "Serving restic REST API on ";

/// The server's address as shown: `sftp://user@host:port/path`.
pub fn location(r: &BackupRemote) -> String {
    let path = r.path.trim_start_matches('/');
    let sep = if r.path.starts_with('/') { "//" } else { "/" };
    format!(
        "sftp://{}@{}:{}{sep}{path}",
        r.user,
        r.host,
        r.port.unwrap_or(22)
    )
}

/// Checks a remote as a user gave it: `Err((field, why))` names what is wrong.
pub fn check(r: &BackupRemote) -> Result<BackupRemote, (&'static str, String)> {
    if r.kind != "sftp" {
        return Err((
            "remote.kind",
            format!(
                "`{}` is not a remote kind Optimus knows (only `sftp`)",
                r.kind
            ),
        ));
    }
    let host = r.host.trim();
    if host.is_empty() || host.len() > 253 || host.contains(|c: char| c.is_whitespace() || c == '/')
    {
        return Err((
            "remote.host",
            "must be a host name or address, without spaces or slashes".into(),
        ));
    }
    if r.port == Some(0) {
        return Err(("remote.port", "must be between 1 and 65535".into()));
    }
    let user = r.user.trim();
    if user.is_empty() || user.contains(|c: char| c.is_whitespace() || c == '@' || c == ':') {
        return Err((
            "remote.user",
            "must be a user name, without spaces, `@` or `:`".into(),
        ));
    }
    let password = r.password.clone().filter(|p| !p.is_empty());
    if password
        .as_deref()
        .is_some_and(|p| p.contains(['\n', '\r', '\0']))
    {
        return Err(("remote.password", "may not contain line breaks".into()));
    }
    let private_key = r
        .private_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    match (&password, &private_key) {
        (None, None) => {
            return Err((
                "remote.password",
                "give the server's `password` or a `private_key`".into(),
            ))
        }
        (Some(_), Some(_)) => {
            return Err((
                "remote.private_key",
                "give either `password` or `private_key`, not both".into(),
            ))
        }
        _ => {}
    }
    if let Some(k) = &private_key {
        if !k.starts_with("-----BEGIN ") || !k.contains("PRIVATE KEY-----") {
            return Err((
                "remote.private_key",
                "must be a private key in PEM form (`-----BEGIN OPENSSH PRIVATE KEY-----` …)"
                    .into(),
            ));
        }
    }
    let host_key = r
        .host_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let host_key = match host_key {
        None => None,
        Some(k) => {
            let mut parts = k.split_whitespace();
            match (parts.next(), parts.next()) {
                (Some(kind), Some(key))
                    if kind.starts_with("ssh-") || kind.starts_with("ecdsa-") =>
                {
                    Some(format!("{kind} {key}"))
                }
                _ => {
                    return Err((
                        "remote.host_key",
                        "must be a public key line such as `ssh-ed25519 AAAA…`".into(),
                    ))
                }
            }
        }
    };
    // One spelling per folder (a policy's repository is found again by it).
    let path = r.path.trim().trim_end_matches('/');
    let path = path.strip_prefix("./").unwrap_or(path);
    if path.is_empty() || path.len() > 1000 || path.contains(['\n', '\r', '\0']) {
        return Err((
            "remote.path",
            "must be the repository's folder on the server".into(),
        ));
    }
    if path.split('/').any(|c| c == "..") {
        return Err(("remote.path", "may not contain `..`".into()));
    }
    Ok(BackupRemote {
        kind: "sftp".into(),
        host: host.to_owned(),
        port: r.port,
        user: user.to_owned(),
        password,
        private_key,
        host_key,
        path: path.to_owned(),
    })
}

/// rclone's on-the-fly remote for the repository's folder.
fn rclone_remote(r: &BackupRemote) -> String {
    format!(":sftp:{}", r.path)
}

/// rclone keeps passwords "obscured" (reversibly, so they are not readable at a glance):
/// `rclone obscure` does it.
fn obscure(password: &str) -> Result<String, String> {
    let mut child = Command::new("rclone")
        .args(["obscure", "-"])
        .env("RCLONE_CONFIG", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run rclone (is Debian's `rclone` installed?): {e}"))?;
    let written = match child.stdin.take() {
        Some(mut stdin) => stdin.write_all(password.as_bytes()),
        None => Ok(()),
    };
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rclone obscure: {e}"))?;
    written.map_err(|e| format!("rclone obscure: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rclone obscure failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The environment telling rclone how to reach the server (without the host key, which rclone
/// reads from a file).
fn server_env(r: &BackupRemote) -> Result<BTreeMap<String, String>, String> {
    let mut env = BTreeMap::new();
    env.insert("RCLONE_SFTP_HOST".into(), r.host.clone());
    env.insert("RCLONE_SFTP_PORT".into(), r.port.unwrap_or(22).to_string());
    env.insert("RCLONE_SFTP_USER".into(), r.user.clone());
    // No shell commands on the server (hashes, disk usage): plain SFTP is all a repository needs.
    env.insert("RCLONE_SFTP_SHELL_TYPE".into(), "none".into());
    if let Some(p) = &r.password {
        env.insert("RCLONE_SFTP_PASS".into(), obscure(p)?);
    }
    if let Some(k) = &r.private_key {
        // rclone wants the PEM on one line, its line breaks written `\n`.
        env.insert(
            "RCLONE_SFTP_KEY_PEM".into(),
            k.lines().collect::<Vec<_>>().join("\\n"),
        );
    }
    Ok(env)
}

/// What plain `restic -r rclone::sftp:<path>` needs in its environment to open the repository.
pub fn restic_env(r: &BackupRemote) -> Result<(String, BTreeMap<String, String>), String> {
    Ok((format!("rclone:{}", rclone_remote(r)), server_env(r)?))
}

/// A running `rclone serve restic`: stopped when dropped.
struct Served {
    child: Child,
    url: String,
    user: String,
    pass: String,
    /// rclone's last lines on stderr (its errors say what went wrong with the server).
    said: Arc<Mutex<VecDeque<String>>>,
    /// The host key file rclone checks the server against (removed when dropped).
    known_hosts: Option<std::path::PathBuf>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(f) = self.known_hosts.take() {
            let _ = std::fs::remove_file(f);
        }
    }
}

impl Served {
    fn last_error(&self) -> Option<String> {
        last_error(&self.said)
    }
}

fn last_error(said: &Mutex<VecDeque<String>>) -> Option<String> {
    let said = said.lock().ok()?;
    said.iter()
        .rev()
        .find(|l| l.contains("ERROR") || l.contains("Failed") || l.contains("couldn't"))
        .or_else(|| said.back())
        .map(|l| tidy(l))
}

/// An rclone log line without its time stamp.
fn tidy(line: &str) -> String {
    let mut parts = line.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(d), Some(t), Some(rest)) if d.contains('/') && t.contains(':') => rest.to_owned(),
        _ => line.to_owned(),
    }
    .trim()
    .to_owned()
}

fn random(n: usize) -> String {
    use rand::Rng;
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// Writes a file that must not exist yet, readable by its owner only.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

/// Starts `rclone serve restic` for the repository and waits until it serves.
fn serve(r: &BackupRemote) -> Result<Served, String> {
    let mut env = server_env(r)?;
    let known_hosts = match &r.host_key {
        None => None,
        Some(key) => {
            let port = r.port.unwrap_or(22);
            let host = if port == 22 {
                r.host.clone()
            } else {
                format!("[{}]:{port}", r.host)
            };
            let path = std::env::temp_dir().join(format!("optimus-known-hosts-{}", random(16)));
            write_new(&path, format!("{host} {key}\n").as_bytes())
                .map_err(|e| format!("could not write the host key file: {e}"))?;
            env.insert(
                "RCLONE_SFTP_KNOWN_HOSTS_FILE".into(),
                path.display().to_string(),
            );
            Some(path)
        }
    };
    let user = random(16);
    let pass = random(32);
    let mut cmd = Command::new("rclone");
    cmd.args(["serve", "restic", "--addr", "127.0.0.1:0"])
        .arg(rclone_remote(r))
        .env_clear()
        .envs(std::env::vars_os().filter(|(k, _)| k == "PATH" || k == "HOME" || k == "TMPDIR"))
        // No rclone.conf: everything comes from here.
        .env("RCLONE_CONFIG", "")
        .env("RCLONE_USER", &user)
        .env("RCLONE_PASS", &pass)
        .envs(&env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let forget = |known_hosts: &Option<std::path::PathBuf>| {
        if let Some(p) = known_hosts {
            let _ = std::fs::remove_file(p);
        }
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            forget(&known_hosts);
            return Err(format!(
                "could not run rclone (is Debian's `rclone` installed?): {e}"
            ));
        }
    };
    let Some(stderr) = child.stderr.take() else {
        let _ = child.kill();
        let _ = child.wait();
        forget(&known_hosts);
        return Err("rclone's output could not be read".into());
    };
    let said: Arc<Mutex<VecDeque<String>>> = Arc::default();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let kept = said.clone();
    // Reads rclone's stderr for as long as it runs (so it never blocks writing it), handing on
    // the address it serves on.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(at) = line.find(SERVING) {
                let url = line[at + SERVING.len()..]
                    .trim()
                    .trim_matches(['[', ']'])
                    .to_owned();
                let _ = tx.send(url);
            }
            if let Ok(mut k) = kept.lock() {
                if k.len() >= 20 {
                    k.pop_front();
                }
                k.push_back(line);
            }
        }
    });
    let mut served = Served {
        child,
        url: String::new(),
        user,
        pass,
        said,
        known_hosts,
    };
    match rx.recv_timeout(START_WITHIN) {
        Ok(url) => {
            served.url = if url.ends_with('/') {
                url
            } else {
                format!("{url}/")
            };
            Ok(served)
        }
        Err(_) => {
            // rclone exited (its reader hung up) or never started serving: give it a moment to
            // have said why.
            let _ = served.child.kill();
            let _ = served.child.wait();
            std::thread::sleep(Duration::from_millis(50));
            let why = served
                .last_error()
                .unwrap_or_else(|| "rclone did not start serving the repository".into());
            Err(format!("could not reach {}: {why}", location(r)))
        }
    }
}

/// restic's REST protocol (v2) over `rclone serve restic`.
struct Rest {
    served: Served,
    location: String,
    client: reqwest::blocking::Client,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn failed(what: &str, why: impl std::fmt::Display) -> Box<RusticError> {
    RusticError::new(ErrorKind::Backend, "the remote repository: {what}: {why}")
        .attach_context("what", what.to_owned())
        .attach_context("why", why.to_string())
}

#[derive(serde::Deserialize)]
struct Listed {
    name: String,
    size: u64,
}

impl Rest {
    fn url(&self, tpe: FileType, id: &Id) -> String {
        match tpe {
            FileType::Config => format!("{}config", self.served.url),
            _ => format!(
                "{}{}/{}",
                self.served.url,
                tpe.dirname(),
                id.to_hex().as_str()
            ),
        }
    }

    /// Sends a request and reads its answer with `read`, again after a pause when the server
    /// failed (5xx), could not be reached or broke off its answer: every request here is
    /// idempotent (files are named by their content). `None` for a 404 when `ok_404`.
    fn send<T>(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::blocking::RequestBuilder,
        ok_404: bool,
        read: impl Fn(reqwest::blocking::Response) -> Result<T, String>,
    ) -> RusticResult<Option<T>> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(250 << attempt));
            }
            match build()
                .basic_auth(&self.served.user, Some(&self.served.pass))
                .send()
            {
                Ok(r) if r.status().is_success() => match read(r) {
                    Ok(t) => return Ok(Some(t)),
                    Err(e) => last = e,
                },
                Ok(r) if ok_404 && r.status() == reqwest::StatusCode::NOT_FOUND => return Ok(None),
                Ok(r) if r.status().is_server_error() => {
                    last = format!("{}", r.status());
                }
                Ok(r) => return Err(failed(what, r.status())),
                Err(e) => last = e.without_url().to_string(),
            }
        }
        let why = match self.served.last_error() {
            Some(said) => format!("{last} ({said})"),
            None => last,
        };
        Err(failed(what, why))
    }
}

/// The answer's body.
fn body(r: reqwest::blocking::Response) -> Result<Bytes, String> {
    r.bytes().map_err(|e| e.without_url().to_string())
}

impl ReadBackend for Rest {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            let url = format!("{}config", self.served.url);
            let size = self.send(
                "config",
                || self.client.head(&url),
                true,
                |r| {
                    Ok(r.headers()
                        .get(reqwest::header::CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok()?.parse().ok())
                        .unwrap_or(0))
                },
            )?;
            return Ok(size.map(|n| vec![(Id::default(), n)]).unwrap_or_default());
        }
        let url = format!("{}{}/", self.served.url, tpe.dirname());
        let listed = self.send(
            tpe.dirname(),
            || {
                self.client
                    .get(&url)
                    .header(reqwest::header::ACCEPT, "application/vnd.x.restic.rest.v2")
            },
            true,
            |r| {
                r.json::<Option<Vec<Listed>>>()
                    .map_err(|e| e.without_url().to_string())
            },
        )?;
        let mut out = Vec::new();
        // A file not named by an id (left there by someone else) is not the repository's.
        for l in listed.flatten().unwrap_or_default() {
            let Some(id) = Id::parse_some(&l.name, tpe) else {
                continue;
            };
            let size = u32::try_from(l.size)
                .map_err(|_| failed(tpe.dirname(), format!("{} is too large", l.name)))?;
            out.push((id, size));
        }
        Ok(out)
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        let url = self.url(tpe, id);
        self.send(tpe.dirname(), || self.client.get(&url), false, body)?
            .ok_or_else(|| failed(tpe.dirname(), "not found"))
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        if length == 0 {
            return Ok(Bytes::new());
        }
        let url = self.url(tpe, id);
        let end = u64::from(offset) + u64::from(length) - 1;
        let range = format!("bytes={offset}-{end}");
        let want = length as usize;
        self.send(
            tpe.dirname(),
            || self.client.get(&url).header(reqwest::header::RANGE, &range),
            false,
            |r| {
                if r.status() != reqwest::StatusCode::PARTIAL_CONTENT {
                    return Err(format!("asked for a range, got {}", r.status()));
                }
                let b = body(r)?;
                if b.len() != want {
                    return Err(format!("asked for {want} bytes, got {}", b.len()));
                }
                Ok(b)
            },
        )?
        .ok_or_else(|| failed(tpe.dirname(), "not found"))
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.url(tpe, id)
    }
}

impl WriteBackend for Rest {
    fn create(&self) -> RusticResult<()> {
        let url = format!("{}?create=true", self.served.url);
        self.send("create", || self.client.post(&url), false, |_| Ok(()))?;
        Ok(())
    }

    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        let url = self.url(tpe, id);
        let parts = content.into_vec();
        let body: Bytes = if parts.len() == 1 {
            parts.into_iter().next().unwrap_or_default()
        } else {
            parts.concat().into()
        };
        self.send(
            tpe.dirname(),
            || self.client.post(&url).body(body.clone()),
            false,
            |_| Ok(()),
        )?;
        Ok(())
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        let url = self.url(tpe, id);
        self.send(tpe.dirname(), || self.client.delete(&url), true, |_| Ok(()))?;
        Ok(())
    }
}

/// Opens the remote repository's backend (starting rclone for as long as it is used) and says
/// whether a repository is there already.
pub fn backends(r: &BackupRemote) -> Result<(RepositoryBackends, bool), String> {
    let served = serve(r)?;
    // rclone is on loopback: never through a proxy (it would see the made-up credentials).
    // rclone gives up on a stalled server after its own idle timeout (5 minutes); this is a
    // backstop past it.
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(900))
        .build()
        .map_err(|e| format!("could not make an HTTP client: {e}"))?;
    let rest = Rest {
        served,
        location: location(r),
        client,
    };
    let exists = !rest
        .list_with_size(FileType::Config)
        .map_err(super::line)?
        .is_empty();
    Ok((RepositoryBackends::new(Arc::new(rest), None), exists))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sftp() -> BackupRemote {
        BackupRemote {
            kind: "sftp".into(),
            host: "backup.example.org".into(),
            port: Some(2222),
            user: "bob".into(),
            password: Some("pw".into()),
            private_key: None,
            host_key: None,
            path: "repos/optimus".into(),
        }
    }

    #[test]
    fn a_remote_is_shown_without_its_credentials() {
        assert_eq!(
            location(&sftp()),
            "sftp://bob@backup.example.org:2222/repos/optimus"
        );
        let abs = BackupRemote {
            path: "/srv/repo".into(),
            port: None,
            ..sftp()
        };
        assert_eq!(location(&abs), "sftp://bob@backup.example.org:22//srv/repo");
        assert!(!format!("{:?}", sftp()).contains("pw"));
    }

    #[test]
    fn a_bad_remote_names_its_field() {
        let bad = |r: BackupRemote| check(&r).err().map(|(f, _)| f);
        assert_eq!(
            bad(BackupRemote {
                kind: "s3".into(),
                ..sftp()
            }),
            Some("remote.kind")
        );
        assert_eq!(
            bad(BackupRemote {
                host: "a b".into(),
                ..sftp()
            }),
            Some("remote.host")
        );
        assert_eq!(
            bad(BackupRemote {
                port: Some(0),
                ..sftp()
            }),
            Some("remote.port")
        );
        assert_eq!(
            bad(BackupRemote {
                user: "".into(),
                ..sftp()
            }),
            Some("remote.user")
        );
        assert_eq!(
            bad(BackupRemote {
                password: None,
                ..sftp()
            }),
            Some("remote.password")
        );
        assert_eq!(
            bad(BackupRemote {
                private_key: Some("-----BEGIN OPENSSH PRIVATE KEY-----".into()),
                ..sftp()
            }),
            Some("remote.private_key")
        );
        assert_eq!(
            bad(BackupRemote {
                password: None,
                private_key: Some("not a key".into()),
                ..sftp()
            }),
            Some("remote.private_key")
        );
        assert_eq!(
            bad(BackupRemote {
                host_key: Some("AAAA".into()),
                ..sftp()
            }),
            Some("remote.host_key")
        );
        assert_eq!(
            bad(BackupRemote {
                path: "a/../b".into(),
                ..sftp()
            }),
            Some("remote.path")
        );
        assert_eq!(
            bad(BackupRemote {
                path: " ".into(),
                ..sftp()
            }),
            Some("remote.path")
        );
        assert_eq!(
            bad(BackupRemote {
                path: "/".into(),
                ..sftp()
            }),
            Some("remote.path")
        );
        assert_eq!(
            bad(BackupRemote {
                password: Some("a\nb".into()),
                ..sftp()
            }),
            Some("remote.password")
        );
        let same = check(&BackupRemote {
            path: "./repos/optimus/".into(),
            ..sftp()
        });
        assert_eq!(same.ok().map(|r| r.path).as_deref(), Some("repos/optimus"));
        let ok = check(&BackupRemote {
            host_key: Some(" ssh-ed25519 AAAAC3Nz comment ".into()),
            ..sftp()
        });
        assert_eq!(
            ok.ok().and_then(|r| r.host_key).as_deref(),
            Some("ssh-ed25519 AAAAC3Nz")
        );
    }

    #[test]
    fn rclone_log_lines_lose_their_time_stamp() {
        assert_eq!(
            tidy("2026/12/06 22:53:56 Failed to create file system: knownhosts: key mismatch"),
            "Failed to create file system: knownhosts: key mismatch"
        );
        assert_eq!(tidy("plain"), "plain");
    }
}
