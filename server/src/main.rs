//! `optimus`: the composition root.

use clap::Parser;
use server::cli::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The log shim is a small synchronous process: no settings, no async runtime.
    if matches!(cli.command, Some(Command::Shim)) {
        std::process::exit(app::server::runtime::shim::run());
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(server::cli::run(cli))
}
