//! Configuration: defaults, then an optional `optimus.toml`, then `OPTIMUS_*` environment
//! variables. Everything is checked before anything starts; an error names the key.
//!
//! Secrets (`jwt_secret`, `master_key`) that are not configured are generated on first start and
//! kept in `<data_dir>/secrets.toml` with mode 0600, so restarts keep sessions valid.
//!
//! Longer than most files on purpose: every key with its default, environment name and check
//! in one place (the README's table follows it); its tests are in `tests.rs`.

use super::secret::{redact_url, Secret};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every key Optimus reads, as written in `optimus.toml`; the environment variable is
/// `OPTIMUS_` followed by the key in upper case.
pub const KEYS: [&str; 40] = [
    "bind",
    "data_dir",
    "site_root",
    "database_url",
    "database_max_connections",
    "redis_url",
    "redis_prefix",
    "jwt_secret",
    "master_key",
    "access_token_ttl_secs",
    "refresh_token_ttl_days",
    "secure_cookies",
    "max_body_bytes",
    "auth_rate_per_minute",
    "api_rate_per_minute",
    "trust_forwarded_for",
    "log",
    "log_format",
    "llm_base_url",
    "llm_api_key",
    "llm_model",
    "workspace_roots",
    "port_range_start",
    "port_range_end",
    "log_segment_bytes",
    "keep_runs",
    "pipeline_slots",
    "keep_pipeline_runs",
    "keep_releases",
    "public_bind",
    "shim_path",
    "proxy_path",
    "sample_interval_ms",
    "llm_timeout_ms",
    "llm_token_budget",
    "otlp_endpoint",
    "self_backup_cron",
    "self_backup_dir",
    "pg_bin_dir",
    "notification_attempts",
];

/// `OPTIMUS_*` variables that are not settings but what the command line's client commands
/// read (`optimus deploy`): the address to ask and the token to ask with.
const CLIENT_VARS: [&str; 3] = ["url", "token", "config"];

/// Validated settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Where the SQLite database, generated secrets and other state live.
    pub data_dir: PathBuf,
    /// Where the built site (`pkg/` with wasm, js, css) is served from.
    pub site_root: PathBuf,
    /// `sqlite://…` or `postgres://…`; absent means SQLite in `data_dir`.
    pub database_url: Option<Secret>,
    /// Size of the database connection pool.
    pub database_max_connections: u32,
    /// `redis://…`; absent means in-process bus and rate limiter.
    pub redis_url: Option<Secret>,
    /// Prefix for every Redis key and channel (lets instances share or separate a Redis).
    pub redis_prefix: String,
    /// HMAC key for access tokens; generated when absent.
    pub jwt_secret: Option<Secret>,
    /// Key that encrypts secrets at rest; generated when absent.
    pub master_key: Option<Secret>,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token, in days.
    pub refresh_token_ttl_days: u64,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Login and setup attempts allowed per client address and per username per minute.
    pub auth_rate_per_minute: u32,
    /// API requests allowed per token (or client address) per minute.
    pub api_rate_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Log filter, e.g. `info` or `optimus=debug,tower_http=info`.
    pub log: String,
    /// `auto` (JSON unless a terminal), `json` or `pretty`.
    pub log_format: String,
    /// OpenAI-compatible endpoint for the council (optional).
    pub llm_base_url: Option<String>,
    /// API key for that endpoint.
    pub llm_api_key: Option<Secret>,
    /// Default model name.
    pub llm_model: Option<String>,
    /// Folders under which workspaces may be added; empty allows any folder but system ones.
    pub workspace_roots: Vec<std::path::PathBuf>,
    /// First port the registry hands out to services that ask for one.
    pub port_range_start: u16,
    /// Last port it hands out.
    pub port_range_end: u16,
    /// Size of one service log segment; a run keeps two (current and previous).
    pub log_segment_bytes: u64,
    /// Runs (with their logs) kept per service; older ones are pruned.
    pub keep_runs: u32,
    /// Pipeline steps this instance runs at once (further ready steps wait for a slot); 0: it
    /// runs no pipelines (it serves the API; other instances run them).
    pub pipeline_slots: u32,
    /// Finished runs kept per pipeline (with their logs and artifacts); older ones are removed.
    pub keep_pipeline_runs: u32,
    /// Releases kept per project (with their files) besides pinned ones, the one serving and
    /// the one a rollback would go to; older ones are pruned.
    pub keep_releases: u32,
    /// The address deployed services' public ports listen on (through `optimus-proxy`).
    pub public_bind: std::net::IpAddr,
    /// The `optimus` executable that runs the log shim (default: this executable).
    pub shim_path: Option<PathBuf>,
    /// The `optimus-proxy` executable (default: the one beside this executable, else this
    /// executable as `optimus proxy`).
    pub proxy_path: Option<PathBuf>,
    /// How often running services and the host are sampled, in milliseconds.
    pub sample_interval_ms: u64,
    /// How long one model request may take before the persona abstains, in milliseconds.
    pub llm_timeout_ms: u64,
    /// Tokens one deliberation may spend with the model, all personas together.
    pub llm_token_budget: u64,
    /// OTLP/HTTP collector base address (`http://collector:4318`): request and job spans are
    /// exported to `<it>/v1/traces` when set.
    pub otlp_endpoint: Option<String>,
    /// When Optimus backs up its own database (cron, 5 or 6 fields, UTC); empty: never on its
    /// own (`optimus self-backup` and the API still do).
    pub self_backup_cron: String,
    /// The restic repository of those backups (default `<data_dir>/self-backup`; put it on
    /// another disk).
    pub self_backup_dir: Option<PathBuf>,
    /// The folder holding the `pg_dump` and `psql` that dump and restore PostgreSQL databases
    /// (default: found on `PATH`); say `/usr/lib/postgresql/16/bin` to pick a version at least
    /// as new as the servers dumped.
    pub pg_bin_dir: Option<PathBuf>,
    /// How many times a notification delivery is tried (backing off from 5 s to 2 h between
    /// tries) before it goes to the dead-letter list.
    pub notification_attempts: u32,
}

/// The built-in defaults, as a serialisable layer under the file and the environment.
#[derive(Serialize)]
struct Defaults {
    bind: &'static str,
    data_dir: &'static str,
    site_root: &'static str,
    database_max_connections: u32,
    redis_prefix: &'static str,
    access_token_ttl_secs: u64,
    refresh_token_ttl_days: u64,
    secure_cookies: bool,
    max_body_bytes: usize,
    auth_rate_per_minute: u32,
    api_rate_per_minute: u32,
    trust_forwarded_for: bool,
    log: &'static str,
    log_format: &'static str,
    workspace_roots: &'static [&'static str],
    port_range_start: u16,
    port_range_end: u16,
    log_segment_bytes: u64,
    keep_runs: u32,
    pipeline_slots: u32,
    keep_pipeline_runs: u32,
    keep_releases: u32,
    public_bind: &'static str,
    sample_interval_ms: u64,
    llm_timeout_ms: u64,
    llm_token_budget: u64,
    self_backup_cron: &'static str,
    notification_attempts: u32,
}

const DEFAULTS: Defaults = Defaults {
    bind: "127.0.0.1:8005",
    data_dir: "./data",
    site_root: "target/site",
    database_max_connections: 10,
    redis_prefix: "optimus",
    access_token_ttl_secs: 900,
    refresh_token_ttl_days: 30,
    secure_cookies: false,
    max_body_bytes: 256 * 1024,
    auth_rate_per_minute: 10,
    api_rate_per_minute: 1200,
    trust_forwarded_for: false,
    log: "info",
    log_format: "auto",
    workspace_roots: &[],
    port_range_start: 20000,
    port_range_end: 29999,
    log_segment_bytes: 5 * 1024 * 1024,
    keep_runs: 10,
    pipeline_slots: 8,
    keep_pipeline_runs: 200,
    keep_releases: 5,
    public_bind: "0.0.0.0",
    sample_interval_ms: 2000,
    llm_timeout_ms: 30_000,
    llm_token_budget: 40_000,
    self_backup_cron: "0 0 3 * * *",
    notification_attempts: 8,
};

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value could not be read or has the wrong type.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// A value was read but is not acceptable.
    #[error("invalid configuration: `{key}` {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
    /// The data directory or the secrets file could not be used.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl Settings {
    /// Loads settings from the defaults, `config_file` (or `./optimus.toml` if present) and the
    /// `OPTIMUS_*` environment variables, then validates them.
    pub fn load(config_file: Option<&Path>) -> Result<Self, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(DEFAULTS));
        match config_file {
            Some(path) if !path.exists() => {
                return Err(SettingsError::Parse(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("optimus.toml")),
        }
        for (key, _) in std::env::vars() {
            if let Some(rest) = key.strip_prefix("OPTIMUS_") {
                let rest = rest.to_ascii_lowercase();
                if !KEYS.contains(&rest.as_str())
                    && !rest.starts_with("test_")
                    && !CLIENT_VARS.contains(&rest.as_str())
                {
                    eprintln!("warning: ignoring unknown environment variable {key}");
                }
            }
        }
        figment = figment.merge(Env::prefixed("OPTIMUS_").only(&KEYS));
        let mut settings: Settings = figment
            .extract()
            .map_err(|e| SettingsError::Parse(describe_figment_error(&e)))?;
        settings.drop_empty_values();
        settings.validate()?;
        Ok(settings)
    }

    /// Treats optional values set to the empty string (`OPTIMUS_REDIS_URL=`) as unset.
    fn drop_empty_values(&mut self) {
        fn clear(v: &mut Option<Secret>) {
            if v.as_ref().is_some_and(|s| s.expose().trim().is_empty()) {
                *v = None;
            }
        }
        clear(&mut self.database_url);
        clear(&mut self.redis_url);
        clear(&mut self.jwt_secret);
        clear(&mut self.master_key);
        clear(&mut self.llm_api_key);
        if self
            .llm_base_url
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            self.llm_base_url = None;
        }
        if self
            .llm_model
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            self.llm_model = None;
        }
        if self
            .otlp_endpoint
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            self.otlp_endpoint = None;
        }
    }

    /// The built-in defaults alone (no file, no environment), for tests and tools.
    pub fn defaults() -> Result<Self, SettingsError> {
        Figment::from(Serialized::defaults(DEFAULTS))
            .extract()
            .map_err(|e| SettingsError::Parse(describe_figment_error(&e)))
    }

    /// Checks values that the types alone cannot.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key, reason: &str| SettingsError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        if let Some(url) = &self.database_url {
            let u = url.expose();
            if !(u.starts_with("sqlite:")
                || u.starts_with("postgres://")
                || u.starts_with("postgresql://"))
            {
                return Err(invalid(
                    "database_url",
                    "must start with sqlite:, postgres:// or postgresql://",
                ));
            }
        }
        if let Some(url) = &self.redis_url {
            let u = url.expose();
            if !(u.starts_with("redis://")
                || u.starts_with("rediss://")
                || u.starts_with("redis+unix://"))
            {
                return Err(invalid(
                    "redis_url",
                    "must start with redis://, rediss:// or redis+unix://",
                ));
            }
        }
        if !(1..=1000).contains(&self.database_max_connections) {
            return Err(invalid(
                "database_max_connections",
                "must be between 1 and 1000",
            ));
        }
        if self.redis_prefix.is_empty() || self.redis_prefix.len() > 64 {
            return Err(invalid("redis_prefix", "must be 1 to 64 characters"));
        }
        if let Some(s) = &self.jwt_secret {
            if s.expose().len() < 32 {
                return Err(invalid("jwt_secret", "must be at least 32 characters"));
            }
        }
        if let Some(s) = &self.master_key {
            if s.expose().len() < 32 {
                return Err(invalid("master_key", "must be at least 32 characters"));
            }
        }
        if !(60..=86_400).contains(&self.access_token_ttl_secs) {
            return Err(invalid(
                "access_token_ttl_secs",
                "must be between 60 and 86400",
            ));
        }
        if !(1..=365).contains(&self.refresh_token_ttl_days) {
            return Err(invalid(
                "refresh_token_ttl_days",
                "must be between 1 and 365",
            ));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(invalid(
                "max_body_bytes",
                "must be between 1024 and 67108864",
            ));
        }
        if self.auth_rate_per_minute == 0 {
            return Err(invalid("auth_rate_per_minute", "must be at least 1"));
        }
        if self.api_rate_per_minute == 0 {
            return Err(invalid("api_rate_per_minute", "must be at least 1"));
        }
        if !matches!(self.log_format.as_str(), "auto" | "json" | "pretty") {
            return Err(invalid("log_format", "must be auto, json or pretty"));
        }
        if self.port_range_start < 1024 || self.port_range_end < self.port_range_start {
            return Err(invalid(
                "port_range_start",
                "must be at least 1024 and not above port_range_end",
            ));
        }
        if !(64 * 1024..=1024 * 1024 * 1024).contains(&self.log_segment_bytes) {
            return Err(invalid(
                "log_segment_bytes",
                "must be between 65536 and 1073741824",
            ));
        }
        if !(100..=3_600_000).contains(&self.sample_interval_ms) {
            return Err(invalid(
                "sample_interval_ms",
                "must be between 100 and 3600000",
            ));
        }
        if !(100..=600_000).contains(&self.llm_timeout_ms) {
            return Err(invalid("llm_timeout_ms", "must be between 100 and 600000"));
        }
        if !(1000..=10_000_000).contains(&self.llm_token_budget) {
            return Err(invalid(
                "llm_token_budget",
                "must be between 1000 and 10000000",
            ));
        }
        if let Some(url) = &self.llm_base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    "llm_base_url",
                    "must start with http:// or https://",
                ));
            }
        }
        if let Some(url) = &self.otlp_endpoint {
            let parsed = reqwest::Url::parse(url);
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || !parsed.is_ok_and(|u| u.host_str().is_some())
            {
                return Err(invalid(
                    "otlp_endpoint",
                    "must be an http:// or https:// address, e.g. http://collector:4318",
                ));
            }
        }
        if !(1..=1000).contains(&self.keep_runs) {
            return Err(invalid("keep_runs", "must be between 1 and 1000"));
        }
        if self.pipeline_slots > 256 {
            return Err(invalid("pipeline_slots", "must be between 0 and 256"));
        }
        if !(1..=100_000).contains(&self.keep_pipeline_runs) {
            return Err(invalid(
                "keep_pipeline_runs",
                "must be between 1 and 100000",
            ));
        }
        if !(1..=1000).contains(&self.keep_releases) {
            return Err(invalid("keep_releases", "must be between 1 and 1000"));
        }
        if !(1..=50).contains(&self.notification_attempts) {
            return Err(invalid("notification_attempts", "must be between 1 and 50"));
        }
        if tracing_filter_is_invalid(&self.log) {
            return Err(invalid("log", "is not a valid log filter"));
        }
        if !self.self_backup_cron.trim().is_empty() {
            if let Err(e) = crate::server::pipelines::definitions::cron(&self.self_backup_cron) {
                return Err(invalid("self_backup_cron", &e));
            }
        }
        Ok(())
    }

    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("optimus.db").display()
            ),
        }
    }

    /// Where spans go: `otlp_endpoint` followed by the OTLP/HTTP traces path, unless it already
    /// names that path.
    pub fn otlp_traces_url(&self) -> Option<String> {
        let base = self.otlp_endpoint.as_deref()?.trim().trim_end_matches('/');
        Some(if base.ends_with("/v1/traces") {
            base.to_owned()
        } else {
            format!("{base}/v1/traces")
        })
    }

    /// The database URL with its password hidden, for logs.
    pub fn database_url_for_logs(&self) -> String {
        redact_url(&self.effective_database_url())
    }

    /// Whether the embedded SQLite default is in use.
    pub fn uses_sqlite(&self) -> bool {
        self.effective_database_url().starts_with("sqlite:")
    }

    /// Creates the data directory and fills in generated secrets that were not configured.
    pub fn ensure_data_dir_and_secrets(&mut self) -> Result<(), SettingsError> {
        let dir = self.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| SettingsError::DataDir {
            path: dir.clone(),
            source,
        })?;
        if self.jwt_secret.is_some() && self.master_key.is_some() {
            return Ok(());
        }
        let path = dir.join("secrets.toml");
        let io_err = |source| SettingsError::DataDir {
            path: path.clone(),
            source,
        };
        let mut stored: GeneratedSecrets = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                SettingsError::Parse(format!("{} is not valid: {e}", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => GeneratedSecrets::default(),
            Err(e) => return Err(io_err(e)),
        };
        let mut changed = false;
        if stored.jwt_secret.is_none() {
            stored.jwt_secret = Some(random_secret());
            changed = true;
        }
        if stored.master_key.is_none() {
            stored.master_key = Some(random_secret());
            changed = true;
        }
        if changed {
            let text = toml::to_string(&stored)
                .map_err(|e| SettingsError::Parse(format!("cannot encode secrets: {e}")))?;
            write_private(&path, &text).map_err(io_err)?;
        }
        if self.jwt_secret.is_none() {
            self.jwt_secret = stored.jwt_secret.map(Secret::new);
        }
        if self.master_key.is_none() {
            self.master_key = stored.master_key.map(Secret::new);
        }
        Ok(())
    }
}

impl Settings {
    /// Writes the master key in use into the data dir's `secrets.toml` when that holds none
    /// (after `optimus restore-self`, so the restored instance starts with the key its sealed
    /// data needs).
    pub fn keep_master_key(&self) -> Result<(), SettingsError> {
        let Some(key) = &self.master_key else {
            return Ok(());
        };
        let path = self.data_dir.join("secrets.toml");
        let io_err = |source| SettingsError::DataDir {
            path: path.clone(),
            source,
        };
        let mut stored: GeneratedSecrets = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                SettingsError::Parse(format!("{} is not valid: {e}", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => GeneratedSecrets::default(),
            Err(e) => return Err(io_err(e)),
        };
        if stored.master_key.is_some() {
            return Ok(());
        }
        stored.master_key = Some(key.expose().to_owned());
        let text = toml::to_string(&stored)
            .map_err(|e| SettingsError::Parse(format!("cannot encode secrets: {e}")))?;
        std::fs::create_dir_all(&self.data_dir).map_err(io_err)?;
        write_private(&path, &text).map_err(io_err)
    }
}

#[derive(Default, Serialize, Deserialize)]
struct GeneratedSecrets {
    jwt_secret: Option<String>,
    master_key: Option<String>,
}

fn random_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn describe_figment_error(e: &figment::Error) -> String {
    let mut out = Vec::new();
    for err in e.clone() {
        let key = err.path.join(".");
        let source = if KEYS.contains(&key.as_str()) {
            format!(
                " (file key `{key}` or environment variable OPTIMUS_{})",
                key.to_ascii_uppercase()
            )
        } else {
            String::new()
        };
        if key.is_empty() {
            out.push(err.kind.to_string());
        } else {
            out.push(format!("`{key}`: {}{source}", err.kind));
        }
    }
    out.join("; ")
}

fn tracing_filter_is_invalid(filter: &str) -> bool {
    filter.trim().is_empty() || filter.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests;
