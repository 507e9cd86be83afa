//! When schedules fire, decided without I/O: a schedule's fire times in its time zone (croner
//! handles daylight saving: a time in the spring-forward gap fires when the gap ends, a time in
//! the fall-back overlap fires once), and which of the fire times in a window are due under the
//! missed-run policy.
//!
//! The scheduler looks at each schedule's window `(checked_at, now]` every second. When the
//! window is short, every fire time in it is on time. When it is long (no instance looked for a
//! while: Optimus was down), the fire times older than [`LATE`] were missed, and the policy
//! decides: none of them, the last one, or all of them up to the cap.

use crate::models::pipelines::{Missed, Schedule};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::collections::VecDeque;
use std::time::Duration;

/// A window longer than this means nobody looked at the schedule for a while.
pub const DOWNTIME: Duration = Duration::from_secs(10);
/// After downtime, fire times older than this are missed (the rest are on time).
pub const LATE: Duration = Duration::from_secs(2);
/// `missed = "all"` starts at most this many missed runs unless `missed_cap` says otherwise.
pub const DEFAULT_CAP: u32 = 10;
/// At most this many fire times are looked at in one window (a per-second schedule after a
/// day of downtime has 86,400).
const MAX_SCAN: usize = 100_000;

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Parsed {
    cron: croner::Cron,
    zone: Tz,
}

/// Parses a schedule's expression and zone (checked when the definition was saved).
pub fn parse(s: &Schedule) -> Result<Parsed, String> {
    Ok(Parsed {
        cron: super::definitions::cron(&s.cron)?,
        zone: super::definitions::timezone(&s.timezone)?,
    })
}

impl Parsed {
    /// The fire times after `after` up to `until` (inclusive), oldest first; of very many, the
    /// latest `keep`.
    pub fn between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        keep: usize,
    ) -> (Vec<DateTime<Utc>>, usize) {
        let mut kept = VecDeque::with_capacity(keep.min(64));
        let mut count = 0usize;
        for t in self
            .cron
            .iter_after(after.with_timezone(&self.zone))
            .take(MAX_SCAN)
        {
            let t = t.with_timezone(&Utc);
            if t > until {
                break;
            }
            count += 1;
            if kept.len() == keep {
                kept.pop_front();
            }
            kept.push_back(t);
        }
        (kept.into_iter().collect(), count)
    }

    /// The next `n` fire times after `after`.
    pub fn next(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        self.cron
            .iter_after(after.with_timezone(&self.zone))
            .take(n)
            .map(|t| t.with_timezone(&Utc))
            .collect()
    }
}

/// The fire times of `schedule` in the window `(checked, now]` that start a run, oldest first.
pub fn due(
    parsed: &Parsed,
    schedule: &Schedule,
    checked: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let cap = schedule.missed_cap.unwrap_or(DEFAULT_CAP).max(1) as usize;
    let window = (now - checked).to_std().unwrap_or_default();
    if window <= DOWNTIME {
        return parsed.between(checked, now, MAX_SCAN).0;
    }
    let late = now - chrono::Duration::from_std(LATE).unwrap_or_default();
    let (missed, _) = parsed.between(checked, late.max(checked), cap);
    let (on_time, _) = parsed.between(late.max(checked), now, MAX_SCAN);
    let mut out: Vec<DateTime<Utc>> = match schedule.missed {
        Missed::None => Vec::new(),
        Missed::Last => missed.last().copied().into_iter().collect(),
        Missed::All => missed,
    };
    out.extend(on_time);
    out
}

/// The trigger key of a schedule's fire time: unique per pipeline, the same on every instance.
pub fn key(index: usize, at: DateTime<Utc>) -> String {
    format!(
        "schedule:{index}:{}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn schedule(cron: &str, zone: &str, missed: Missed, cap: Option<u32>) -> Schedule {
        Schedule {
            cron: cron.into(),
            timezone: zone.into(),
            missed,
            missed_cap: cap,
            parameters: Default::default(),
        }
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .unwrap_or_default()
    }

    fn parsed(s: &Schedule) -> Parsed {
        match parse(s) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_short_window_fires_every_time_in_it() {
        let s = schedule("*/2 * * * * *", "UTC", Missed::None, None);
        let p = parsed(&s);
        let t0 = utc(2026, 12, 6, 3, 0, 0);
        let due = due(&p, &s, t0, t0 + chrono::Duration::seconds(5));
        assert_eq!(due, [utc(2026, 12, 6, 3, 0, 2), utc(2026, 12, 6, 3, 0, 4)]);
        assert_eq!(key(1, due[0]), "schedule:1:2026-12-06T03:00:02Z");
    }

    #[test]
    fn after_downtime_the_policy_picks_none_the_last_or_all_up_to_the_cap() {
        let t0 = utc(2026, 12, 6, 3, 0, 0);
        // 30 s down; fires every 2 s: 14 missed (2 … 28 s), 1 on time (30 s, within LATE).
        let now = t0 + chrono::Duration::seconds(30);
        let count = |missed: Missed, cap: Option<u32>| {
            let s = schedule("*/2 * * * * *", "UTC", missed, cap);
            due(&parsed(&s), &s, t0, now)
        };
        assert_eq!(count(Missed::None, None), [now]);
        assert_eq!(
            count(Missed::Last, None),
            [t0 + chrono::Duration::seconds(28), now]
        );
        let all = count(Missed::All, None);
        assert_eq!(all.len(), 10 + 1, "the default cap keeps the latest 10");
        assert_eq!(all[0], t0 + chrono::Duration::seconds(10));
        assert_eq!(count(Missed::All, Some(3)).len(), 3 + 1);
        assert_eq!(count(Missed::All, Some(100)).len(), 14 + 1);
    }

    /// Europe/Paris springs forward on 2026-03-29 (02:00 → 03:00) and falls back on 2026-10-25
    /// (03:00 → 02:00): a 02:30 schedule fires once each of those days, at 03:00 CEST in the gap
    /// and at the first 02:30 in the overlap.
    #[test]
    fn daylight_saving_days_fire_once_at_fixed_times() {
        let s = schedule("30 2 * * *", "Europe/Paris", Missed::All, None);
        let p = parsed(&s);
        let spring = p
            .between(utc(2026, 3, 28, 12, 0, 0), utc(2026, 3, 29, 12, 0, 0), 10)
            .0;
        // 03:00 CEST is 01:00 UTC.
        assert_eq!(spring, [utc(2026, 3, 29, 1, 0, 0)]);
        let autumn = p
            .between(utc(2026, 10, 24, 12, 0, 0), utc(2026, 10, 25, 12, 0, 0), 10)
            .0;
        // The first 02:30 (CEST) is 00:30 UTC; the second (CET, 01:30 UTC) does not fire.
        assert_eq!(autumn, [utc(2026, 10, 25, 0, 30, 0)]);
        // An ordinary day: 02:30 CET is 01:30 UTC.
        let winter = p
            .between(utc(2026, 12, 5, 12, 0, 0), utc(2026, 12, 6, 12, 0, 0), 10)
            .0;
        assert_eq!(winter, [utc(2026, 12, 6, 1, 30, 0)]);
        assert_eq!(
            p.next(utc(2026, 12, 6, 12, 0, 0), 2),
            [utc(2026, 12, 7, 1, 30, 0), utc(2026, 12, 8, 1, 30, 0)]
        );
    }
}
