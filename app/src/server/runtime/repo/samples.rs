//! Resource samples: insert, read a range, roll tiers up, prune.

use crate::models::runtime::{HostSample, ResourceSample};
use crate::server::runtime::entities::{host_sample, resource_sample};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeMap;

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn service_row(s: &ResourceSample, tier: i16) -> resource_sample::ActiveModel {
    resource_sample::ActiveModel {
        service_id: Set(s.service_id),
        tier: Set(tier),
        at: Set(s.at),
        cpu_percent: Set(s.cpu_percent),
        rss_bytes: Set(clamp(s.rss_bytes)),
        threads: Set(clamp(s.threads)),
        open_files: Set(clamp(s.open_files)),
        read_bps: Set(s.read_bps),
        write_bps: Set(s.write_bps),
        ..Default::default()
    }
}

fn host_row(h: &HostSample, tier: i16) -> host_sample::ActiveModel {
    host_sample::ActiveModel {
        tier: Set(tier),
        at: Set(h.at),
        cpu_percent: Set(h.cpu_percent),
        cpus: Set(i64::from(h.cpus)),
        memory_used_bytes: Set(clamp(h.memory_used_bytes)),
        memory_total_bytes: Set(clamp(h.memory_total_bytes)),
        load_1m: Set(h.load_1m),
        net_rx_bps: Set(h.net_rx_bps),
        net_tx_bps: Set(h.net_tx_bps),
        ..Default::default()
    }
}

/// The wire form of a stored service sample.
pub fn to_sample(m: &resource_sample::Model, project_id: i64, name: &str) -> ResourceSample {
    ResourceSample {
        service_id: m.service_id,
        project_id,
        name: name.to_owned(),
        at: m.at,
        cpu_percent: m.cpu_percent,
        rss_bytes: u64::try_from(m.rss_bytes).unwrap_or(0),
        threads: u64::try_from(m.threads).unwrap_or(0),
        open_files: u64::try_from(m.open_files).unwrap_or(0),
        read_bps: m.read_bps,
        write_bps: m.write_bps,
    }
}

/// The wire form of a stored host sample.
pub fn to_host(m: &host_sample::Model) -> HostSample {
    HostSample {
        at: m.at,
        cpu_percent: m.cpu_percent,
        cpus: u32::try_from(m.cpus).unwrap_or(1),
        memory_used_bytes: u64::try_from(m.memory_used_bytes).unwrap_or(0),
        memory_total_bytes: u64::try_from(m.memory_total_bytes).unwrap_or(0),
        load_1m: m.load_1m,
        net_rx_bps: m.net_rx_bps,
        net_tx_bps: m.net_tx_bps,
    }
}

/// Stores one tick of raw samples.
pub async fn insert(
    db: &impl ConnectionTrait,
    samples: &[ResourceSample],
    host: &HostSample,
) -> Result<(), DbErr> {
    if !samples.is_empty() {
        resource_sample::Entity::insert_many(samples.iter().map(|s| service_row(s, 0)))
            .exec(db)
            .await?;
    }
    host_sample::Entity::insert(host_row(host, 0))
        .exec(db)
        .await
        .map(|_| ())
}

/// Samples of services in one tier since `from`, oldest first.
pub async fn services_since(
    db: &impl ConnectionTrait,
    service_ids: Vec<i64>,
    tier: i16,
    from: DateTime<Utc>,
) -> Result<Vec<resource_sample::Model>, DbErr> {
    resource_sample::Entity::find()
        .filter(resource_sample::Column::ServiceId.is_in(service_ids))
        .filter(resource_sample::Column::Tier.eq(tier))
        .filter(resource_sample::Column::At.gte(from))
        .order_by_asc(resource_sample::Column::At)
        .limit(50_000)
        .all(db)
        .await
}

/// Host samples in one tier since `from`, oldest first.
pub async fn host_since(
    db: &impl ConnectionTrait,
    tier: i16,
    from: DateTime<Utc>,
) -> Result<Vec<host_sample::Model>, DbErr> {
    host_sample::Entity::find()
        .filter(host_sample::Column::Tier.eq(tier))
        .filter(host_sample::Column::At.gte(from))
        .order_by_asc(host_sample::Column::At)
        .limit(50_000)
        .all(db)
        .await
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / f64::from(n)
    }
}

fn mean_i(values: impl Iterator<Item = i64>) -> i64 {
    let v: Vec<i64> = values.collect();
    if v.is_empty() {
        0
    } else {
        v.iter().sum::<i64>() / i64::try_from(v.len()).unwrap_or(1)
    }
}

/// Averages every finished `width` bucket of tier `from` before `end` that tier `to` does not
/// have yet, into one row per bucket (stamped at the bucket's start).
pub async fn roll_up(
    db: &impl ConnectionTrait,
    from: i16,
    to: i16,
    width: TimeDelta,
    end: DateTime<Utc>,
) -> Result<(), DbErr> {
    // Everything before the newest rolled-up bucket's end is done already.
    let done: Option<DateTime<Utc>> = resource_sample::Entity::find()
        .filter(resource_sample::Column::Tier.eq(to))
        .order_by_desc(resource_sample::Column::At)
        .one(db)
        .await?
        .map(|m| m.at + width);
    let mut q = resource_sample::Entity::find()
        .filter(resource_sample::Column::Tier.eq(from))
        .filter(resource_sample::Column::At.lt(end));
    if let Some(d) = done {
        q = q.filter(resource_sample::Column::At.gte(d));
    }
    let rows = q.all(db).await?;
    let mut buckets: BTreeMap<(i64, DateTime<Utc>), Vec<resource_sample::Model>> = BTreeMap::new();
    for r in rows {
        let start = r.at.duration_trunc(width).unwrap_or(r.at);
        buckets.entry((r.service_id, start)).or_default().push(r);
    }
    let averaged: Vec<resource_sample::ActiveModel> = buckets
        .into_iter()
        .map(|((service_id, at), rows)| resource_sample::ActiveModel {
            service_id: Set(service_id),
            tier: Set(to),
            at: Set(at),
            cpu_percent: Set(mean(rows.iter().map(|r| r.cpu_percent))),
            rss_bytes: Set(mean_i(rows.iter().map(|r| r.rss_bytes))),
            threads: Set(mean_i(rows.iter().map(|r| r.threads))),
            open_files: Set(mean_i(rows.iter().map(|r| r.open_files))),
            read_bps: Set(mean(rows.iter().map(|r| r.read_bps))),
            write_bps: Set(mean(rows.iter().map(|r| r.write_bps))),
            ..Default::default()
        })
        .collect();
    for chunk in averaged.chunks(500) {
        resource_sample::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }

    let done: Option<DateTime<Utc>> = host_sample::Entity::find()
        .filter(host_sample::Column::Tier.eq(to))
        .order_by_desc(host_sample::Column::At)
        .one(db)
        .await?
        .map(|m| m.at + width);
    let mut q = host_sample::Entity::find()
        .filter(host_sample::Column::Tier.eq(from))
        .filter(host_sample::Column::At.lt(end));
    if let Some(d) = done {
        q = q.filter(host_sample::Column::At.gte(d));
    }
    let mut buckets: BTreeMap<DateTime<Utc>, Vec<host_sample::Model>> = BTreeMap::new();
    for r in q.all(db).await? {
        let start = r.at.duration_trunc(width).unwrap_or(r.at);
        buckets.entry(start).or_default().push(r);
    }
    let averaged: Vec<host_sample::ActiveModel> = buckets
        .into_iter()
        .map(|(at, rows)| host_sample::ActiveModel {
            tier: Set(to),
            at: Set(at),
            cpu_percent: Set(mean(rows.iter().map(|r| r.cpu_percent))),
            cpus: Set(rows.last().map(|r| r.cpus).unwrap_or(1)),
            memory_used_bytes: Set(mean_i(rows.iter().map(|r| r.memory_used_bytes))),
            memory_total_bytes: Set(rows.last().map(|r| r.memory_total_bytes).unwrap_or(0)),
            load_1m: Set(mean(rows.iter().map(|r| r.load_1m))),
            net_rx_bps: Set(mean(rows.iter().map(|r| r.net_rx_bps))),
            net_tx_bps: Set(mean(rows.iter().map(|r| r.net_tx_bps))),
            ..Default::default()
        })
        .collect();
    for chunk in averaged.chunks(500) {
        host_sample::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Drops samples of `tier` older than `before`.
pub async fn prune(
    db: &impl ConnectionTrait,
    tier: i16,
    before: DateTime<Utc>,
) -> Result<(), DbErr> {
    resource_sample::Entity::delete_many()
        .filter(resource_sample::Column::Tier.eq(tier))
        .filter(resource_sample::Column::At.lt(before))
        .exec(db)
        .await?;
    host_sample::Entity::delete_many()
        .filter(host_sample::Column::Tier.eq(tier))
        .filter(host_sample::Column::At.lt(before))
        .exec(db)
        .await
        .map(|_| ())
}

/// Rows per tier (for tests and the benchmark).
pub async fn count(db: &impl ConnectionTrait, tier: i16) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    resource_sample::Entity::find()
        .filter(resource_sample::Column::Tier.eq(tier))
        .count(db)
        .await
}
