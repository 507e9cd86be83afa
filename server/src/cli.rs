//! The command line: `optimus [serve|migrate|user create|deploy|health]`.

use crate::startup::Application;
use crate::telemetry;
use anyhow::Context;
use app::models::{Password, Role, Username};
use app::server::accounts::users;
use app::server::db;
use app::server::settings::Settings;
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use std::io::BufRead;
use std::path::PathBuf;

/// Optimus: a self-hosted control center for your software projects.
#[derive(Debug, Parser)]
#[command(name = "optimus", version, about)]
pub struct Cli {
    /// Configuration file (default: ./optimus.toml when present).
    #[arg(long, global = true, env = "OPTIMUS_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        /// The user action.
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Exit 0 when this instance answers `/healthz` (a container HEALTHCHECK that needs no curl).
    Health {
        /// The address to ask (default: `http://127.0.0.1:<port>/healthz`, the port from the
        /// bind setting).
        #[arg(long)]
        url: Option<String>,
    },
    /// Deploy a project (or roll it back) through a running Optimus, and follow it.
    Deploy(crate::deploy_cli::DeployArgs),
    /// Back Optimus's own database up now into its self-backup repository, and exit (1 when
    /// the backup failed).
    SelfBackup,
    /// Restore Optimus's database from a self-backup into a fresh data dir (or an empty
    /// PostgreSQL database named by database_url), then exit. Needs the master key of the
    /// instance that made the backup (OPTIMUS_MASTER_KEY, or its secrets.toml in the data dir).
    RestoreSelf {
        /// The self-backup repository (the old instance's self_backup_dir).
        #[arg(long)]
        from: PathBuf,
        /// The snapshot to restore (default: the newest).
        #[arg(long)]
        snapshot: Option<String>,
    },
    /// Internal: own one service run's output (started by Optimus, spec on stdin).
    #[command(hide = true)]
    Shim,
    /// Internal: serve deployed services' public traffic (started by Optimus; outlives it).
    #[command(hide = true)]
    Proxy {
        /// Its folder (routes, lock, control socket).
        #[arg(long)]
        dir: std::path::PathBuf,
    },
}

/// User subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from the first line of standard input.
    Create {
        /// Username.
        #[arg(long)]
        username: String,
        /// viewer, operator, admin or owner.
        #[arg(long, default_value = "viewer")]
        role: String,
    },
}

/// Runs the chosen command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("optimus: {e}");
            std::process::exit(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    // Only the server exports traces; the other commands log.
    let traces = match command {
        Command::Serve => settings.otlp_traces_url(),
        _ => None,
    };
    let telemetry = telemetry::init(&settings.log, &settings.log_format, traces.as_deref());
    match command {
        Command::Shim => std::process::exit(app::server::runtime::shim::run()),
        Command::Proxy { .. } => std::process::exit(optimus_proxy::run()),
        Command::Serve => {
            let app = Application::build(settings).await?;
            // The port actually bound (the setting may say 0).
            tracing::info!(
                port = app.port(),
                "listening on http://{}:{}",
                app.state().settings.bind.ip(),
                app.port()
            );
            if telemetry.exports_traces() {
                tracing::info!(
                    endpoint = traces.as_deref().unwrap_or_default(),
                    "exporting traces over OTLP/HTTP"
                );
            }
            let served = app.run_until_stopped().await;
            telemetry.shutdown().await;
            served
        }
        Command::Deploy(args) => {
            let url = health_url(settings.bind);
            let base = url.trim_end_matches("/healthz").to_owned();
            std::process::exit(crate::deploy_cli::run(args, base).await)
        }
        Command::Health { url } => {
            let url = url.unwrap_or_else(|| health_url(settings.bind));
            match check_health(&url).await {
                Ok(()) => Ok(()),
                Err(reason) => {
                    eprintln!("optimus health: {url}: {reason}");
                    std::process::exit(1);
                }
            }
        }
        Command::SelfBackup => {
            settings.ensure_data_dir_and_secrets()?;
            let conn = db::connect(&settings)
                .await
                .context("connecting to the database")?;
            Migrator::up(&conn, None)
                .await
                .context("running migrations")?;
            let key = format!("manual:{}", uuid::Uuid::new_v4().simple());
            let run = app::server::backups::self_backup::run(
                &conn,
                &settings,
                "cli",
                &key,
                Some("optimus self-backup"),
            )
            .await
            .context("recording the self-backup")?
            .ok_or_else(|| anyhow::anyhow!("another self-backup took this run"))?;
            if run.status == "succeeded" {
                println!(
                    "backed up: snapshot {} ({} bytes) in {}",
                    run.snapshot.unwrap_or_default(),
                    run.bytes,
                    app::server::backups::self_backup::repository(&settings)
                        .map(|r| r.path.display().to_string())
                        .unwrap_or_default()
                );
                Ok(())
            } else {
                eprintln!("optimus self-backup: {}", run.reason.unwrap_or_default());
                std::process::exit(1);
            }
        }
        Command::RestoreSelf { from, snapshot } => {
            if settings.master_key.is_none() {
                if settings.data_dir.join("secrets.toml").exists() {
                    settings.ensure_data_dir_and_secrets()?;
                } else {
                    anyhow::bail!(
                        "restore-self needs the master key of the instance that made the backup: \
                         set OPTIMUS_MASTER_KEY (or master_key in the config file) to the one in \
                         its data dir's secrets.toml"
                    );
                }
            }
            std::fs::create_dir_all(&settings.data_dir)
                .with_context(|| format!("creating {}", settings.data_dir.display()))?;
            let done =
                app::server::backups::self_backup::restore(&settings, &from, snapshot.as_deref())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            settings.keep_master_key()?;
            println!(
                "restored snapshot {} (made {}, {} bytes) into {}; start Optimus on this data dir",
                done.snapshot, done.time, done.bytes, done.into
            );
            Ok(())
        }
        Command::Migrate => {
            settings.ensure_data_dir_and_secrets()?;
            let conn = db::connect(&settings)
                .await
                .context("connecting to the database")?;
            Migrator::up(&conn, None)
                .await
                .context("running migrations")?;
            println!("migrations applied");
            Ok(())
        }
        Command::User {
            action: UserCommand::Create { username, role },
        } => {
            let username =
                Username::parse(&username).map_err(|m| anyhow::anyhow!("--username: {m}"))?;
            let role = Role::parse(&role).map_err(|m| anyhow::anyhow!("--role: {m}"))?;
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            let pw = line.trim_end_matches(['\r', '\n']);
            let pw = Password::parse(pw, username.as_str())
                .map_err(|m| anyhow::anyhow!("password: {m}"))?;
            settings.ensure_data_dir_and_secrets()?;
            let conn = db::connect(&settings)
                .await
                .context("connecting to the database")?;
            Migrator::up(&conn, None)
                .await
                .context("running migrations")?;
            let user = users::create_from_cli(&conn, &username, &pw, role)
                .await
                .map_err(|e| anyhow::anyhow!("{}", app::AppError::from(e)))?;
            println!("created {} ({})", user.username, role);
            Ok(())
        }
    }
}

/// Where this instance answers on its own host: the bound address, or loopback when it binds
/// every address.
fn health_url(bind: std::net::SocketAddr) -> String {
    let host = match bind.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    format!("http://{host}:{}/healthz", bind.port())
}

async fn check_health(url: &str) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .map_err(|e| e.to_string())?;
    let res = client.get(url).send().await.map_err(|e| e.to_string())?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", res.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::health_url;

    #[test]
    fn the_health_check_asks_loopback_when_every_address_is_bound() {
        let url = |bind: &str| bind.parse().ok().map(health_url);
        assert_eq!(
            url("0.0.0.0:8005").as_deref(),
            Some("http://127.0.0.1:8005/healthz")
        );
        assert_eq!(
            url("[::]:9000").as_deref(),
            Some("http://[::1]:9000/healthz")
        );
        assert_eq!(
            url("10.1.2.3:80").as_deref(),
            Some("http://10.1.2.3:80/healthz")
        );
    }
}
