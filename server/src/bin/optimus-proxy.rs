//! `optimus-proxy`: the reverse proxy in front of deployed services, as its own small program so
//! that it keeps serving while Optimus restarts or upgrades. Ignores a `proxy` argument, so it is
//! started exactly like `optimus proxy --dir DIR`.

fn main() {
    std::process::exit(optimus_proxy::run());
}
