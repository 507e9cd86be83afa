//! `optimus-shim`: the per-run log shim on its own, without the server linked in, so each
//! running service costs about a megabyte of memory instead of the whole `optimus` binary's
//! baseline. Takes the same (ignored) `shim` argument as `optimus shim`.

fn main() {
    std::process::exit(app::server::runtime::shim::run());
}
