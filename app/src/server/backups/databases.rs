//! Databases in backups: which ones a policy dumps (checked when saved, PostgreSQL URLs sealed
//! with the master key and never shown whole), how each is dumped, and how a dump is restored
//! into a new database or file.
//!
//! - PostgreSQL: `pg_dump` (plain SQL) streamed straight into the repository. A dump counts
//!   only when `pg_dump` exits 0 *and* its output ends with pg_dump's completion line; anything
//!   else (a refused connection, a killed process, a truncated stream) fails the whole backup.
//!   Restored with `psql --single-transaction -v ON_ERROR_STOP=1` into a database Optimus
//!   creates (and drops again if the restore fails).
//! - SQLite: a consistent copy taken while the database is in use (`VACUUM INTO`, one read
//!   transaction), stored as one file; restored to a new file checked with
//!   `PRAGMA integrity_check`.
//!
//! Passwords reach `pg_dump` and `psql` through `PGPASSWORD`, never their command lines.

use super::restic::Dump;
use crate::error::AppError;
use crate::models::backups::{BackupDatabase, DatabaseKind};
use crate::server::error::ServerResult;
use crate::server::AppState;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// How a policy keeps a database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub name: String,
    pub kind: DatabaseKind,
    /// PostgreSQL: the URL, sealed (context: [`context`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// SQLite: the file, relative to the project's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The sealing context of a database's URL: the policy's repository and the database's name.
fn context(repository: &str, name: &str) -> String {
    format!("backup-database:{repository}:{name}")
}

/// The databases a policy dumps, as stored.
pub(super) fn stored(json: &str) -> Vec<Stored> {
    serde_json::from_str(json).unwrap_or_default()
}

fn bad(field: String, why: impl Into<String>) -> crate::server::error::ServerError {
    AppError::unprocessable(field, why.into()).into()
}

/// Checks the databases a policy is to dump and seals their URLs.
pub(super) fn check(
    state: &AppState,
    root: &Path,
    repository: &str,
    dbs: &[BackupDatabase],
) -> ServerResult<Vec<Stored>> {
    let mut out: Vec<Stored> = Vec::with_capacity(dbs.len());
    for (i, d) in dbs.iter().enumerate() {
        let field = |f: &str| format!("databases[{i}].{f}");
        let name = d.name.trim();
        let ok = !name.is_empty()
            && name.len() <= 100
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.starts_with('.');
        if !ok {
            return Err(bad(
                field("name"),
                "must be 1 to 100 letters, digits, `-`, `_` or `.`, not starting with `.`",
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(bad(field("name"), format!("`{name}` is named twice")));
        }
        let stored = match d.kind {
            DatabaseKind::Postgres => {
                if d.path.is_some() {
                    return Err(bad(
                        field("path"),
                        "is for SQLite databases; PostgreSQL takes a `url`",
                    ));
                }
                let raw = d.url.as_deref().map(str::trim).unwrap_or("");
                if raw.is_empty() {
                    return Err(bad(
                        field("url"),
                        "a PostgreSQL database needs its connection URL",
                    ));
                }
                let url = parse_url(raw).map_err(|why| bad(field("url"), why))?;
                let sealed = state
                    .crypto
                    .seal(&context(repository, name), url.as_str())
                    .map_err(|_| AppError::Internal)?;
                Stored {
                    name: name.to_owned(),
                    kind: d.kind,
                    url: Some(sealed),
                    path: None,
                }
            }
            DatabaseKind::Sqlite => {
                if d.url.is_some() {
                    return Err(bad(
                        field("url"),
                        "is for PostgreSQL databases; SQLite takes a `path`",
                    ));
                }
                let raw = d.path.as_deref().map(str::trim).unwrap_or("");
                let rel = Path::new(raw);
                if raw.is_empty()
                    || rel.is_absolute()
                    || rel
                        .components()
                        .any(|c| !matches!(c, std::path::Component::Normal(_)))
                {
                    return Err(bad(
                        field("path"),
                        "must be the database file's path inside the project's folder, relative to it, without `..`",
                    ));
                }
                let full =
                    super::restic::inside(root, raw).map_err(|why| bad(field("path"), why))?;
                if !is_sqlite(&full) {
                    return Err(bad(
                        field("path"),
                        format!("`{raw}` is not an SQLite database file"),
                    ));
                }
                Stored {
                    name: name.to_owned(),
                    kind: d.kind,
                    url: None,
                    path: Some(raw.to_owned()),
                }
            }
        };
        out.push(stored);
    }
    Ok(out)
}

/// Whether `p` is a file starting with SQLite's header.
fn is_sqlite(p: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| &head == b"SQLite format 3\0")
        .unwrap_or(false)
}

/// A PostgreSQL URL with a host and a database.
fn parse_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err("must start with postgres:// or postgresql://".into());
    }
    if url.host_str().unwrap_or("").is_empty() {
        return Err("must name the server's host".into());
    }
    if database_of(&url).is_empty() {
        return Err("must name the database: postgres://user@host:5432/database".into());
    }
    Ok(url)
}

fn database_of(url: &url::Url) -> String {
    let path = url.path().trim_start_matches('/');
    percent_decode(path)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A stored database as callers see it: the URL without its password.
pub(super) fn shown(state: &AppState, repository: &str, s: &Stored) -> BackupDatabase {
    let url = s.url.as_ref().map(|sealed| {
        match state.crypto.open(&context(repository, &s.name), sealed) {
            Ok(plain) => match url::Url::parse(&plain) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("****"));
                    }
                    u.to_string()
                }
                Err(_) => "(unreadable)".to_owned(),
            },
            Err(_) => "(sealed with another master key)".to_owned(),
        }
    });
    BackupDatabase {
        name: s.name.clone(),
        kind: s.kind,
        url,
        path: s.path.clone(),
    }
}

/// A PostgreSQL URL split for `pg_dump`/`psql`: the URL without its password, and the password.
pub(super) struct Conn {
    pub url: url::Url,
    pub password: Option<String>,
    /// Where `pg_dump` and `psql` are (`None`: on `PATH`).
    pub bin: Option<PathBuf>,
}

impl Conn {
    fn command(&self, program: &str) -> Command {
        let mut c = match &self.bin {
            Some(dir) => Command::new(dir.join(program)),
            None => Command::new(program),
        };
        c.arg("--no-password")
            .arg(format!("--dbname={}", self.url))
            .env("PGCONNECT_TIMEOUT", "15")
            .env_remove("PGPASSWORD");
        if let Some(p) = &self.password {
            c.env("PGPASSWORD", p);
        }
        c
    }

    /// The same server, database `db`.
    pub fn with_database(&self, db: &str) -> Conn {
        let mut url = self.url.clone();
        url.set_path(&format!("/{db}"));
        Conn {
            url,
            password: self.password.clone(),
            bin: self.bin.clone(),
        }
    }

    /// The URL with its password, for a client library.
    pub fn full(&self) -> String {
        let mut u = self.url.clone();
        if let Some(p) = &self.password {
            let _ = u.set_password(Some(p));
        }
        u.to_string()
    }
}

/// The connection a PostgreSQL URL names, dumped and restored with the `pg_dump` and `psql`
/// in `bin` (else on `PATH`).
pub(super) fn conn_of(raw: &str, bin: Option<&Path>) -> Result<Conn, String> {
    let mut url = parse_url(raw)?;
    let password = url.password().map(percent_decode);
    let _ = url.set_password(None);
    Ok(Conn {
        url,
        password,
        bin: bin.map(Path::to_path_buf),
    })
}

/// A stored PostgreSQL database's connection.
pub(super) fn conn(state: &AppState, repository: &str, s: &Stored) -> Result<Conn, String> {
    let sealed = s.url.as_ref().ok_or("it has no URL")?;
    let plain = state
        .crypto
        .open(&context(repository, &s.name), sealed)
        .map_err(|_| "its URL could not be opened (was the master key changed?)".to_owned())?;
    conn_of(&plain, state.settings.pg_bin_dir.as_deref())
}

/// Reads a child's stderr in a thread, keeping its last 2,000 characters.
fn stderr_of(child: &mut Child) -> Option<std::thread::JoinHandle<String>> {
    let mut err = child.stderr.take()?;
    Some(std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = err.read_to_end(&mut all);
        let text = String::from_utf8_lossy(&all).trim().to_owned();
        let start = text
            .char_indices()
            .rev()
            .nth(2000)
            .map(|(i, _)| i)
            .unwrap_or(0);
        text[start..].replace('\n', " ")
    }))
}

/// How a child ended, with what it said on stderr when it failed.
fn ended(
    program: &str,
    child: &mut Child,
    stderr: Option<std::thread::JoinHandle<String>>,
) -> Result<(), String> {
    let status = child
        .wait()
        .map_err(|e| format!("{program} could not be waited for: {e}"))?;
    let said = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    let how = match status.code() {
        Some(c) => format!("exited with status {c}"),
        None => "was killed".to_owned(),
    };
    if said.is_empty() {
        Err(format!("{program} {how}"))
    } else {
        Err(format!("{program} {how}: {said}"))
    }
}

/// The last bytes read through it.
struct Tail<R> {
    inner: R,
    last: Arc<Mutex<Vec<u8>>>,
}

const TAIL: usize = 1024;

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if let Ok(mut last) = self.last.lock() {
                last.extend_from_slice(&buf[..n]);
                let len = last.len();
                if len > TAIL {
                    last.drain(..len - TAIL);
                }
            }
        }
        Ok(n)
    }
}

/// The line `pg_dump` ends a plain dump with once it has written everything.
const PG_DUMP_COMPLETE: &[u8] = b"-- PostgreSQL database dump complete";

/// A PostgreSQL database dumped with `pg_dump`.
pub(super) struct PgDump {
    name: String,
    conn: Conn,
    child: Option<Child>,
    stderr: Option<std::thread::JoinHandle<String>>,
    last: Arc<Mutex<Vec<u8>>>,
}

impl PgDump {
    pub fn new(name: &str, conn: Conn) -> Self {
        PgDump {
            name: name.to_owned(),
            conn,
            child: None,
            stderr: None,
            last: Arc::default(),
        }
    }
}

impl Dump for PgDump {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> DatabaseKind {
        DatabaseKind::Postgres
    }

    fn file(&self) -> String {
        format!("{}.sql", self.name)
    }

    fn start(&mut self) -> Result<Box<dyn Read + Send>, String> {
        let mut child = self
            .conn
            .command("pg_dump")
            .arg("--format=plain")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!("pg_dump could not be started (is the PostgreSQL client installed?): {e}")
            })?;
        self.stderr = stderr_of(&mut child);
        let out = child.stdout.take().ok_or("pg_dump has no output")?;
        self.child = Some(child);
        Ok(Box::new(Tail {
            inner: out,
            last: self.last.clone(),
        }))
    }

    fn finish(&mut self) -> Result<(), String> {
        let mut child = self.child.take().ok_or("pg_dump was not started")?;
        ended("pg_dump", &mut child, self.stderr.take())?;
        let last = self.last.lock().map(|l| l.clone()).unwrap_or_default();
        if !last
            .windows(PG_DUMP_COMPLETE.len())
            .any(|w| w == PG_DUMP_COMPLETE)
        {
            return Err(
                "the dump is incomplete: it does not end with pg_dump's completion line".into(),
            );
        }
        Ok(())
    }
}

impl Drop for PgDump {
    fn drop(&mut self) {
        // A dump abandoned half way (the job failed) is not left running.
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An SQLite database copied consistently while in use, stored from the copy.
pub(super) struct SqliteDump {
    name: String,
    source: PathBuf,
    copy: PathBuf,
    runtime: tokio::runtime::Handle,
}

impl SqliteDump {
    /// `copy` is a path in Optimus's data dir for the copy (removed once stored).
    pub fn new(name: &str, source: PathBuf, copy: PathBuf) -> Self {
        SqliteDump {
            name: name.to_owned(),
            source,
            copy,
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

/// A read-only connection to the SQLite file at `p`.
async fn sqlite_read_only(
    p: &Path,
) -> Result<sea_orm::sqlx::SqliteConnection, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::sqlite::SqliteConnectOptions;
    use sea_orm::sqlx::ConnectOptions;
    SqliteConnectOptions::new()
        .filename(p)
        .read_only(true)
        .connect()
        .await
}

/// Copies SQLite database `source` to the new file `to` in one read transaction (writers may
/// go on meanwhile).
async fn sqlite_copy(source: &Path, to: &Path) -> Result<(), String> {
    use sea_orm::sqlx::Connection;
    let mut conn = sqlite_read_only(source)
        .await
        .map_err(|e| format!("could not be opened: {e}"))?;
    let done = sea_orm::sqlx::query("VACUUM INTO ?")
        .bind(to.display().to_string())
        .execute(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| format!("could not be copied: {e}"));
    let _ = conn.close().await;
    done
}

/// `Err` unless the SQLite file at `p` passes `PRAGMA integrity_check`; its tables otherwise.
pub(super) async fn sqlite_check(p: &Path) -> Result<u64, String> {
    use sea_orm::sqlx::Connection;
    let mut conn = sqlite_read_only(p)
        .await
        .map_err(|e| format!("the restored file could not be opened: {e}"))?;
    let said: Vec<String> = sea_orm::sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| format!("the restored file could not be checked: {e}"))?;
    let tables: i64 = sea_orm::sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap_or(0);
    let _ = conn.close().await;
    if said != ["ok"] {
        return Err(format!(
            "the restored file fails SQLite's integrity check: {}",
            said.join("; ")
        ));
    }
    Ok(u64::try_from(tables).unwrap_or(0))
}

impl Dump for SqliteDump {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> DatabaseKind {
        DatabaseKind::Sqlite
    }

    fn file(&self) -> String {
        format!("{}.sqlite3", self.name)
    }

    fn start(&mut self) -> Result<Box<dyn Read + Send>, String> {
        if let Some(dir) = self.copy.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        // A copy left by an earlier crash is ours to replace.
        let _ = std::fs::remove_file(&self.copy);
        self.runtime
            .block_on(sqlite_copy(&self.source, &self.copy))
            .map_err(|why| format!("{} {why}", self.source.display()))?;
        let f = std::fs::File::open(&self.copy)
            .map_err(|e| format!("the copy {}: {e}", self.copy.display()))?;
        Ok(Box::new(f))
    }

    fn finish(&mut self) -> Result<(), String> {
        let _ = std::fs::remove_file(&self.copy);
        Ok(())
    }
}

impl Drop for SqliteDump {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.copy);
    }
}

/// Creates database `db` on `admin`'s server (it must not exist).
pub(super) async fn create_database(admin: &Conn, db: &str) -> Result<(), String> {
    run_admin(admin, &format!("CREATE DATABASE \"{db}\"")).await
}

/// Drops database `db` (one this job created).
pub(super) async fn drop_database(admin: &Conn, db: &str) -> Result<(), String> {
    run_admin(admin, &format!("DROP DATABASE IF EXISTS \"{db}\"")).await
}

/// A connection to the database `c` names.
async fn pg_connect(c: &Conn) -> Result<sea_orm::sqlx::PgConnection, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection;
    sea_orm::sqlx::PgConnection::connect(&c.full()).await
}

async fn run_admin(admin: &Conn, sql: &str) -> Result<(), String> {
    use sea_orm::sqlx::Connection;
    let mut c = pg_connect(admin)
        .await
        .map_err(|e| format!("could not connect to the server: {e}"))?;
    let done = sea_orm::sqlx::query(sql)
        .execute(&mut c)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    let _ = c.close().await;
    done
}

/// The tables of the database `c` names (outside PostgreSQL's own schemas).
pub(super) async fn pg_tables(c: &Conn) -> Result<u64, String> {
    use sea_orm::sqlx::Connection;
    let mut conn = pg_connect(c)
        .await
        .map_err(|e| format!("could not connect to the restored database: {e}"))?;
    let n: i64 = sea_orm::sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables \
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| e.to_string())?;
    let _ = conn.close().await;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Runs `psql` into the database `c` names, in one transaction that stops at the first error,
/// with `feed` writing the SQL to its input (a dump read from a repository). Blocking. When both
/// fail, psql's own complaint is the one kept: it says more than the broken pipe `feed` saw.
pub(super) fn psql_from(
    c: &Conn,
    feed: impl FnOnce(&mut std::process::ChildStdin) -> Result<(), String>,
) -> Result<(), String> {
    let mut child = c
        .command("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("psql could not be started (is the PostgreSQL client installed?): {e}")
        })?;
    let stderr = stderr_of(&mut child);
    let fed = match child.stdin.take() {
        // Dropped at the end of the arm: psql sees its input end.
        Some(mut stdin) => feed(&mut stdin),
        None => Err("psql has no input".to_owned()),
    };
    ended("psql", &mut child, stderr).and(fed)
}

/// Whether `name` may be a new PostgreSQL database's name here: lower-case letters, digits and
/// `_`, starting with a letter or `_`, at most 63 bytes.
pub(super) fn valid_database_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
