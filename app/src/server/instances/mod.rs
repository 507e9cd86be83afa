//! Which Optimus process this is, for the work it owns in a database several instances share.
//!
//! An instance is its host, the host's boot, and its own process (pid and start time). It is
//! recorded as it starts ([`register`]), keeps a heartbeat ([`spawn_heartbeat`]), and is
//! forgotten when it stops cleanly ([`forget`]). Work an instance owns (the services it
//! supervises, the scans it runs) names it; another instance takes that work over only once its
//! owner is [`Verdict::Gone`], and claims it with a compare-and-set in the database, so two
//! instances starting together never both take the same work.

pub mod entities;
mod repo;

use crate::server::jobs::Jobs;
use chrono::{DateTime, Utc};
use optimus_shim::proc;
use sea_orm::{DatabaseConnection, DbErr};
use std::collections::HashMap;
use std::time::Duration;

/// How often an instance says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// An instance on another host unheard of for this long is gone.
const STALE: Duration = Duration::from_secs(60);
/// Rows of instances unheard of for this long are removed.
const FORGOTTEN: Duration = Duration::from_secs(7 * 24 * 3600);

/// This Optimus process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// A new id for every start.
    pub id: String,
    /// The host name.
    pub host: String,
    /// The host's boot id.
    pub boot: String,
    /// The process id.
    pub pid: u32,
    /// The process's start time (clock ticks after boot).
    pub pid_start: u64,
}

impl Instance {
    /// The running process, with a new id.
    pub fn current() -> Self {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let pid = std::process::id();
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            host: read("/proc/sys/kernel/hostname"),
            boot: read("/proc/sys/kernel/random/boot_id"),
            pid,
            pid_start: proc::start_time(pid).unwrap_or_default(),
        }
    }
}

/// What became of the instance that owns some work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// This instance.
    Me,
    /// Another instance that is still there (or that cannot be judged from here).
    Alive,
    /// Nobody, or an instance that is gone: the work may be taken over.
    Gone,
}

/// Where the owned work lives, which decides who can judge its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Processes on the owner's host (supervised services): only an instance on the same host
    /// can see whether the owner and its processes are gone; owners on other hosts count as
    /// alive.
    SameHost,
    /// Work inside the owner itself (a scan): an owner on another host is gone once its
    /// heartbeat is stale.
    AnyHost,
}

/// Judges owners for one pass over some work, reading each owner's row once.
pub struct Judge<'a> {
    db: &'a DatabaseConnection,
    me: &'a Instance,
    reach: Reach,
    seen: HashMap<String, Verdict>,
}

impl<'a> Judge<'a> {
    /// A judge for work of `reach`, as seen by `me`.
    pub fn new(db: &'a DatabaseConnection, me: &'a Instance, reach: Reach) -> Self {
        Self {
            db,
            me,
            reach,
            seen: HashMap::new(),
        }
    }

    /// What became of `owner` (none: the work has no owner).
    pub async fn owner(&mut self, owner: Option<&str>) -> Result<Verdict, DbErr> {
        let Some(id) = owner else {
            return Ok(Verdict::Gone);
        };
        if id == self.me.id {
            return Ok(Verdict::Me);
        }
        if let Some(v) = self.seen.get(id) {
            return Ok(*v);
        }
        let row = repo::find(self.db, id).await?;
        let verdict = judge(self.me, self.reach, row.as_ref(), Utc::now());
        self.seen.insert(id.to_owned(), verdict);
        Ok(verdict)
    }
}

/// The verdict on an owner whose row is `row` (none: forgotten, so gone).
fn judge(
    me: &Instance,
    reach: Reach,
    row: Option<&entities::instance::Model>,
    now: DateTime<Utc>,
) -> Verdict {
    let Some(row) = row else {
        return Verdict::Gone;
    };
    if row.host == me.host {
        if row.boot_id != me.boot {
            return Verdict::Gone;
        }
        let alive = u32::try_from(row.pid).is_ok_and(|pid| {
            u64::try_from(row.pid_start).is_ok_and(|start| proc::is_same_process(pid, start))
        });
        return if alive { Verdict::Alive } else { Verdict::Gone };
    }
    let stale = (now - row.seen_at)
        .to_std()
        .is_ok_and(|quiet| quiet > STALE);
    match reach {
        Reach::AnyHost if stale => Verdict::Gone,
        _ => Verdict::Alive,
    }
}

/// Records `me` as it starts, and forgets instances unheard of for a week.
pub async fn register(db: &DatabaseConnection, me: &Instance) -> Result<(), DbErr> {
    let now = Utc::now();
    let long_ago = now - chrono::Duration::from_std(FORGOTTEN).unwrap_or_default();
    repo::delete_unseen(db, long_ago).await?;
    repo::insert(
        db,
        entities::instance::Model {
            id: me.id.clone(),
            host: me.host.clone(),
            boot_id: me.boot.clone(),
            pid: i32::try_from(me.pid).unwrap_or(i32::MAX),
            pid_start: i64::try_from(me.pid_start).unwrap_or(i64::MAX),
            started_at: now,
            seen_at: now,
        },
    )
    .await
}

/// Forgets `me` as it stops cleanly: what it owned is taken over at once, not after a timeout.
pub async fn forget(db: &DatabaseConnection, me: &Instance) -> Result<(), DbErr> {
    repo::delete(db, &me.id).await
}

/// Keeps `me`'s heartbeat until shutdown.
pub fn spawn_heartbeat(jobs: &Jobs, db: DatabaseConnection, me: Instance) {
    let mut shutdown = jobs.shutdown_signal();
    jobs.spawn("instances.heartbeat", async move {
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tick.tick() => {
                    if let Err(e) = repo::seen(&db, &me.id, Utc::now()).await {
                        tracing::warn!(error = %e, "could not record this instance's heartbeat");
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(of: &Instance, seen: DateTime<Utc>) -> entities::instance::Model {
        entities::instance::Model {
            id: "other".into(),
            host: of.host.clone(),
            boot_id: of.boot.clone(),
            pid: i32::try_from(of.pid).unwrap_or_default(),
            pid_start: i64::try_from(of.pid_start).unwrap_or_default(),
            started_at: seen,
            seen_at: seen,
        }
    }

    #[test]
    fn an_owner_on_this_host_is_alive_exactly_while_its_process_is() {
        let me = Instance::current();
        let now = Utc::now();
        // This very process, under another id: alive, whatever its heartbeat says.
        let alive = row(&me, now - chrono::Duration::days(1));
        assert_eq!(
            judge(&me, Reach::SameHost, Some(&alive), now),
            Verdict::Alive
        );
        let restarted = entities::instance::Model {
            pid_start: alive.pid_start + 1,
            ..alive.clone()
        };
        assert_eq!(
            judge(&me, Reach::SameHost, Some(&restarted), now),
            Verdict::Gone
        );
        let rebooted = entities::instance::Model {
            boot_id: "another boot".into(),
            ..alive.clone()
        };
        assert_eq!(
            judge(&me, Reach::AnyHost, Some(&rebooted), now),
            Verdict::Gone
        );
        assert_eq!(judge(&me, Reach::SameHost, None, now), Verdict::Gone);
    }

    #[test]
    fn an_owner_on_another_host_is_gone_only_for_work_inside_it_and_only_once_stale() {
        let me = Instance::current();
        let now = Utc::now();
        let elsewhere = |quiet: i64| entities::instance::Model {
            host: format!("{}-elsewhere", me.host),
            ..row(&me, now - chrono::Duration::seconds(quiet))
        };
        assert_eq!(
            judge(&me, Reach::AnyHost, Some(&elsewhere(5)), now),
            Verdict::Alive
        );
        assert_eq!(
            judge(&me, Reach::AnyHost, Some(&elsewhere(120)), now),
            Verdict::Gone
        );
        // Its processes are on its host: never taken over from here.
        assert_eq!(
            judge(&me, Reach::SameHost, Some(&elsewhere(120)), now),
            Verdict::Alive
        );
    }
}
