//! The route table: which listening address and host name go to which target, the counters of
//! each target, the rules a route must keep, and the file the routes are kept in.

use crate::{RouteSpec, RouteStatus, TargetStats, ROUTES_FILE};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How many targets of a route are counted at once (the current one and those before it, while
/// requests on them are still under way or until newer ones push them out).
const KEPT_TARGETS: usize = 4;

/// Counters of one target; shared with the requests under way on it.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub in_flight: AtomicU64,
    pub tunnels: AtomicU64,
    pub status: [AtomicU64; 4],
    pub failed: AtomicU64,
}

impl Counters {
    /// Counts a response's status (2xx..5xx; 1xx other than an upgrade is not counted).
    pub fn count_status(&self, status: u16) {
        if let Some(slot) = (status / 100)
            .checked_sub(2)
            .and_then(|i| self.status.get(i as usize))
        {
            slot.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0 || self.tunnels.load(Ordering::Relaxed) > 0
    }

    fn snapshot(&self, target: SocketAddr) -> TargetStats {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TargetStats {
            target: target.to_string(),
            requests: n(&self.requests),
            in_flight: n(&self.in_flight),
            tunnels: n(&self.tunnels),
            status_2xx: n(&self.status[0]),
            status_3xx: n(&self.status[1]),
            status_4xx: n(&self.status[2]),
            status_5xx: n(&self.status[3]),
            failed: n(&self.failed),
        }
    }
}

/// One route in the table.
#[derive(Debug)]
struct Entry {
    spec: RouteSpec,
    /// The current target's counters first.
    counted: Vec<(SocketAddr, Arc<Counters>)>,
    /// Why its address is not being listened on.
    error: Option<String>,
}

/// Where a request goes.
pub struct Picked {
    pub target: Option<(SocketAddr, Arc<Counters>)>,
}

/// Every route the proxy holds.
#[derive(Debug, Default)]
pub struct Table {
    routes: BTreeMap<String, Entry>,
}

impl Table {
    /// The route a request to `listen` for `host` belongs to: the one naming the host, else the
    /// one on that address without host names.
    pub fn pick(&self, listen: SocketAddr, host: Option<&str>) -> Option<Picked> {
        let mut fallback = None;
        for e in self.routes.values().filter(|e| e.spec.listen == listen) {
            if e.spec.hosts.is_empty() {
                fallback = Some(e);
            } else if host.is_some_and(|h| e.spec.hosts.iter().any(|x| x == h)) {
                return Some(picked(e));
            }
        }
        fallback.map(picked)
    }

    /// Checks `spec` as route `name` against the others: see [`check`].
    pub fn check(&self, name: &str, spec: &RouteSpec) -> Result<(), Refused> {
        check(
            name,
            spec,
            self.routes.iter().map(|(n, e)| (n.as_str(), &e.spec)),
        )
    }

    /// Sets route `name` (checked already): a changed target is switched to at once; requests
    /// under way on the one before finish there.
    pub fn set(&mut self, name: &str, spec: RouteSpec) {
        let entry = self
            .routes
            .entry(name.to_string())
            .or_insert_with(|| Entry {
                spec: spec.clone(),
                counted: Vec::new(),
                error: None,
            });
        if let Some(target) = spec.target {
            let at = entry.counted.iter().position(|(t, _)| *t == target);
            let counters = match at {
                Some(i) => entry.counted.remove(i).1,
                None => Arc::default(),
            };
            entry.counted.insert(0, (target, counters));
            // Forget the oldest idle targets beyond the few kept.
            while entry.counted.len() > KEPT_TARGETS {
                match entry.counted.iter().rposition(|(_, c)| !c.busy()) {
                    Some(i) if i > 0 => {
                        entry.counted.remove(i);
                    }
                    _ => break,
                }
            }
        }
        entry.spec = spec;
    }

    /// Removes route `name`; whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.routes.remove(name).is_some()
    }

    /// Records whether route `name`'s address could be listened on.
    pub fn set_error(&mut self, name: &str, error: Option<String>) {
        if let Some(e) = self.routes.get_mut(name) {
            e.error = error;
        }
    }

    /// The addresses some route listens on.
    pub fn addresses(&self) -> Vec<SocketAddr> {
        let mut all: Vec<SocketAddr> = self.routes.values().map(|e| e.spec.listen).collect();
        all.sort();
        all.dedup();
        all
    }

    /// The names of the routes on `listen`.
    pub fn names_on(&self, listen: SocketAddr) -> Vec<String> {
        self.routes
            .iter()
            .filter(|(_, e)| e.spec.listen == listen)
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn spec(&self, name: &str) -> Option<&RouteSpec> {
        self.routes.get(name).map(|e| &e.spec)
    }

    /// Route `name` with its counters.
    pub fn status(&self, name: &str) -> Option<RouteStatus> {
        self.routes.get(name).map(|e| RouteStatus {
            name: name.to_string(),
            spec: e.spec.clone(),
            listening: e.error.is_none(),
            error: e.error.clone(),
            targets: e.counted.iter().map(|(t, c)| c.snapshot(*t)).collect(),
        })
    }

    /// Every route with its counters, by name.
    pub fn statuses(&self) -> Vec<RouteStatus> {
        self.routes.keys().filter_map(|n| self.status(n)).collect()
    }

    /// The routes as they are kept in the file.
    pub fn specs(&self) -> BTreeMap<String, RouteSpec> {
        self.routes
            .iter()
            .map(|(n, e)| (n.clone(), e.spec.clone()))
            .collect()
    }

    /// Requests and tunnels under way on every route.
    pub fn busy(&self) -> u64 {
        self.routes
            .values()
            .flat_map(|e| e.counted.iter())
            .map(|(_, c)| c.in_flight.load(Ordering::Relaxed) + c.tunnels.load(Ordering::Relaxed))
            .sum()
    }
}

fn picked(e: &Entry) -> Picked {
    Picked {
        target: e
            .spec
            .target
            .and_then(|t| e.counted.first().filter(|(c, _)| *c == t).cloned()),
    }
}

/// Why a route was not taken: it breaks a rule (`conflict` false), or clashes with another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub conflict: bool,
    pub message: String,
}

fn invalid(message: String) -> Refused {
    Refused {
        conflict: false,
        message,
    }
}

fn clash(message: String) -> Refused {
    Refused {
        conflict: true,
        message,
    }
}

/// The rules of a route: a name of 1–64 of `a-z 0-9 - _ .`; host names in lower case without a
/// port; on a shared address, no host name claimed twice and at most one route without any.
pub fn check<'a>(
    name: &str,
    spec: &RouteSpec,
    others: impl Iterator<Item = (&'a str, &'a RouteSpec)>,
) -> Result<(), Refused> {
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if !name_ok {
        return Err(invalid(format!(
            "route name `{name}`: use 1 to 64 of a-z, 0-9, `-`, `_` and `.`"
        )));
    }
    if spec.listen.port() == 0 {
        return Err(invalid("listen: a port is required (not 0)".into()));
    }
    for h in &spec.hosts {
        let ok = !h.is_empty()
            && h.len() <= 253
            && h.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
        if !ok {
            return Err(invalid(format!(
                "hosts: `{h}` is not a host name in lower case without a port"
            )));
        }
    }
    for (other, o) in others {
        if other == name || o.listen != spec.listen {
            continue;
        }
        if o.hosts.is_empty() && spec.hosts.is_empty() {
            return Err(clash(format!(
                "listen: route `{other}` already takes every host on {}; name hosts to share it",
                spec.listen
            )));
        }
        if let Some(h) = spec.hosts.iter().find(|h| o.hosts.contains(h)) {
            return Err(clash(format!(
                "hosts: `{h}` on {} belongs to route `{other}`",
                spec.listen
            )));
        }
    }
    Ok(())
}

/// The routes kept in `dir` (none when the file is absent).
pub fn load(dir: &Path) -> Result<BTreeMap<String, RouteSpec>, String> {
    let path = dir.join(ROUTES_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not a routes file: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Keeps `routes` in `dir`, replacing the file whole (written beside it, flushed, renamed), so
/// a crash leaves the old routes or the new ones, never half of either.
pub fn save(dir: &Path, routes: &BTreeMap<String, RouteSpec>) -> Result<(), String> {
    let path = dir.join(ROUTES_FILE);
    let tmp = dir.join(format!("{ROUTES_FILE}.tmp"));
    let bytes = serde_json::to_vec_pretty(routes).map_err(|e| e.to_string())?;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec(listen: &str, hosts: &[&str], target: Option<&str>) -> RouteSpec {
        RouteSpec {
            listen: listen.parse().unwrap(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            target: target.map(|t| t.parse().unwrap()),
        }
    }

    #[test]
    fn a_route_is_picked_by_host_then_by_the_catch_all_on_its_address() {
        let mut t = Table::default();
        t.set("web", spec("0.0.0.0:8080", &[], Some("127.0.0.1:9001")));
        t.set(
            "api",
            spec("0.0.0.0:8080", &["api.test"], Some("127.0.0.1:9002")),
        );
        t.set(
            "other",
            spec("0.0.0.0:8081", &["api.test"], Some("127.0.0.1:9003")),
        );
        let to = |listen: &str, host| {
            t.pick(listen.parse().unwrap(), host)
                .and_then(|p| p.target)
                .map(|(a, _)| a.to_string())
        };
        assert_eq!(
            to("0.0.0.0:8080", Some("api.test")).as_deref(),
            Some("127.0.0.1:9002")
        );
        assert_eq!(
            to("0.0.0.0:8080", Some("www.test")).as_deref(),
            Some("127.0.0.1:9001")
        );
        assert_eq!(to("0.0.0.0:8080", None).as_deref(), Some("127.0.0.1:9001"));
        assert_eq!(
            to("0.0.0.0:8081", Some("api.test")).as_deref(),
            Some("127.0.0.1:9003")
        );
        assert!(t
            .pick("0.0.0.0:8081".parse().unwrap(), Some("www.test"))
            .is_none());
        assert!(t.pick("0.0.0.0:8082".parse().unwrap(), None).is_none());
    }

    #[test]
    fn routes_sharing_an_address_must_not_claim_the_same_hosts() {
        let mut t = Table::default();
        t.set("web", spec("0.0.0.0:8080", &[], None));
        t.set("api", spec("0.0.0.0:8080", &["api.test"], None));
        let e = t
            .check("two", &spec("0.0.0.0:8080", &[], None))
            .unwrap_err();
        assert!(
            e.conflict && e.message.contains("`web` already takes every host"),
            "{e:?}"
        );
        let e = t
            .check("two", &spec("0.0.0.0:8080", &["api.test"], None))
            .unwrap_err();
        assert!(
            e.message.contains("`api.test`") && e.message.contains("`api`"),
            "{e:?}"
        );
        // A route may be set again as itself, and another address is free.
        t.check("web", &spec("0.0.0.0:8080", &[], None)).unwrap();
        t.check("two", &spec("0.0.0.0:8081", &[], None)).unwrap();
        assert!(
            !t.check("Bad Name", &spec("0.0.0.0:8081", &[], None))
                .unwrap_err()
                .conflict
        );
        assert!(t.check("x", &spec("0.0.0.0:0", &[], None)).is_err());
        assert!(t
            .check("x", &spec("0.0.0.0:1", &["Api.test"], None))
            .is_err());
        assert!(t
            .check("x", &spec("0.0.0.0:1", &["api.test:80"], None))
            .is_err());
    }

    #[test]
    fn switching_keeps_counting_the_old_target_and_forgets_idle_ones_beyond_four() {
        let mut t = Table::default();
        for port in 9001..=9006 {
            let target = format!("127.0.0.1:{port}");
            t.set("web", spec("0.0.0.0:8080", &[], Some(&target)));
            if port == 9001 {
                // A request still under way on the first target keeps it counted.
                let picked = t.pick("0.0.0.0:8080".parse().unwrap(), None).unwrap();
                picked
                    .target
                    .unwrap()
                    .1
                    .in_flight
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        let s = t.status("web").unwrap();
        let targets: Vec<&str> = s.targets.iter().map(|t| t.target.as_str()).collect();
        assert_eq!(targets.len(), 4, "{targets:?}");
        assert_eq!(targets[0], "127.0.0.1:9006");
        assert!(
            targets.contains(&"127.0.0.1:9001"),
            "busy one kept: {targets:?}"
        );
        assert_eq!(t.busy(), 1);
        // Switching back to a counted target reuses its counters.
        t.set("web", spec("0.0.0.0:8080", &[], Some("127.0.0.1:9001")));
        assert_eq!(t.status("web").unwrap().targets[0].in_flight, 1);
    }

    #[test]
    fn routes_survive_a_save_and_load_and_a_missing_file_is_no_routes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_empty());
        let mut t = Table::default();
        t.set(
            "web",
            spec("127.0.0.1:8080", &["a.test"], Some("127.0.0.1:9001")),
        );
        save(dir.path(), &t.specs()).unwrap();
        assert_eq!(load(dir.path()).unwrap(), t.specs());
        std::fs::write(dir.path().join(ROUTES_FILE), b"{not json").unwrap();
        assert!(load(dir.path()).unwrap_err().contains("not a routes file"));
    }
}
