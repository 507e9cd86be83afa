//! `optimus`: the composition root.

use clap::Parser;
use server::cli::{Cli, Command};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The log shim is a small synchronous process: no settings, no async runtime.
    if matches!(cli.command, Some(Command::Shim)) {
        std::process::exit(app::server::runtime::shim::run());
    }
    // So is the proxy: it builds its own runtime, with no settings of Optimus's.
    if matches!(cli.command, Some(Command::Proxy { .. })) {
        std::process::exit(optimus_proxy::run());
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(server::cli::run(cli))
}
