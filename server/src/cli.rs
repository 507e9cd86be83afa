//! The command line: `optimus [serve|migrate|user create]`.

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
    /// Internal: own one service run's output (started by Optimus, spec on stdin).
    #[command(hide = true)]
    Shim,
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
    telemetry::init(&settings.log, &settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Shim => std::process::exit(app::server::runtime::shim::run()),
        Command::Serve => {
            let app = Application::build(settings).await?;
            // The port actually bound (the setting may say 0).
            tracing::info!(
                port = app.port(),
                "listening on http://{}:{}",
                app.state().settings.bind.ip(),
                app.port()
            );
            app.run_until_stopped().await
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
