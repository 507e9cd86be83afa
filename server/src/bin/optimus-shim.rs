//! `optimus-shim`: the per-run log shim as its own small program, so each running service costs
//! about a megabyte instead of the `optimus` binary's baseline. Ignores a `shim` argument, so it
//! is started exactly like `optimus shim`.

fn main() {
    std::process::exit(optimus_shim::shim::run());
}
