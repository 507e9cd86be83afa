//! WebSocket fan-out benchmark (driven by `scripts/bench-events.sh`; see docs/benchmarks.md).
//!
//! Opens `clients` event streams to a running Optimus (each subscribed to one of `topics` log
//! topics, `logs:1` …), then publishes `rate` events a second for `seconds` the way another
//! Optimus instance does: over Redis pub/sub, each stamped with the time it was sent. Each
//! client measures delivery (arrival − stamp). Prints p50/p99/max delivery, how many events
//! arrived of those expected, and how many streams were told they lagged.
//!
//! `cargo run --release --example bench_events -- <http base> <token> <redis url> <prefix>
//!  [clients] [rate] [seconds] [topics]`

use app::models::events::{Event, EventEnvelope};
use app::models::runtime::{LogLine, LogStream};
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
struct Tally {
    latencies_us: Mutex<Vec<u64>>,
    received: AtomicU64,
    lagged: AtomicU64,
    missed: AtomicU64,
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, token, redis_url, prefix, ..] = args.as_slice() else {
        anyhow::bail!("usage: bench_events <http base> <token> <redis url> <prefix> [clients] [rate] [seconds] [topics]");
    };
    let clients: usize = arg(&args, 5, 1000);
    let rate: u64 = arg(&args, 6, 5000);
    let seconds: u64 = arg(&args, 7, 10);
    let topics: usize = arg(&args, 8, 100).max(1);
    let ws_url = format!("{}/api/v1/events", base.replacen("http", "ws", 1));
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(tokio::sync::Notify::new());
    let ready = Arc::new(tokio::sync::Barrier::new(clients + 1));

    let t = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let mut req = ws_url.as_str().into_client_request()?;
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
        let topic = format!("logs:{}", i % topics + 1);
        ws.send(Message::Text(
            serde_json::json!({"type": "subscribe", "topics": [topic]})
                .to_string()
                .into(),
        ))
        .await?;
        // The confirmation: subscribed from here on.
        ws.next().await;
        let (tally, stop, ready) = (tally.clone(), stop.clone(), ready.clone());
        tasks.push(tokio::spawn(async move {
            ready.wait().await;
            let mut mine = Vec::new();
            let stopped = stop.notified();
            tokio::pin!(stopped);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    msg = ws.next() => {
                        let Some(Ok(Message::Text(text))) = msg else {
                            if matches!(msg, None | Some(Err(_))) { break; }
                            continue;
                        };
                        let now = Utc::now();
                        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                        match v["type"].as_str() {
                            Some("event") => {
                                let at = v["envelope"]["at"].as_str()
                                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
                                if let Some(at) = at {
                                    let us = (now - at.with_timezone(&Utc)).num_microseconds().unwrap_or(0);
                                    mine.push(u64::try_from(us).unwrap_or(0));
                                }
                                tally.received.fetch_add(1, Ordering::Relaxed);
                            }
                            Some("lagged") => {
                                tally.lagged.fetch_add(1, Ordering::Relaxed);
                                tally.missed.fetch_add(v["missed"].as_u64().unwrap_or(0), Ordering::Relaxed);
                            }
                            _ => {}
                        }
                    }
                }
            }
            tally.latencies_us.lock().await.extend(mine);
        }));
    }
    println!(
        "{clients} streams open and subscribed in {:.1} s ({topics} topics, {} streams each)",
        t.elapsed().as_secs_f64(),
        clients / topics
    );
    ready.wait().await;

    // Publish as another instance would, paced in 10 ms slices.
    let redis = redis::Client::open(redis_url.as_str())?;
    let mut conn = redis.get_multiplexed_async_connection().await?;
    let channel = format!("{prefix}:events");
    let per_slice = (rate / 100).max(1);
    let slices = seconds * 100;
    let start = Instant::now();
    let mut sent = 0u64;
    for s in 0..slices {
        let mut pipe = redis::pipe();
        for _ in 0..per_slice {
            sent += 1;
            let service_id = i64::try_from(sent % topics as u64 + 1).unwrap_or(1);
            let at = Utc::now();
            let envelope = EventEnvelope {
                id: format!("bench-{sent}"),
                at,
                topic: format!("logs:{service_id}"),
                event: Event::LogLines {
                    service_id,
                    lines: vec![LogLine {
                        service_id,
                        run_id: 1,
                        seq: sent,
                        at,
                        stream: LogStream::Stdout,
                        text: format!("GET /api/items/{sent} 200 3.1ms"),
                    }],
                },
            };
            let wire = serde_json::json!({"origin": "bench", "envelope": envelope});
            pipe.cmd("PUBLISH")
                .arg(&channel)
                .arg(wire.to_string())
                .ignore();
        }
        let _: () = pipe.query_async(&mut conn).await?;
        let due = start + Duration::from_millis((s + 1) * 10);
        tokio::time::sleep_until(due.into()).await;
    }
    let took = start.elapsed().as_secs_f64();
    // Let the last ones arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.notify_waiters();
    for t in tasks {
        let _ = t.await;
    }
    let mut l = std::mem::take(&mut *tally.latencies_us.lock().await);
    l.sort_unstable();
    let pct = |p: f64| -> f64 {
        if l.is_empty() {
            return f64::NAN;
        }
        let i = ((l.len() as f64 * p) as usize).min(l.len() - 1);
        l[i] as f64 / 1000.0
    };
    let expected = sent * (clients / topics) as u64;
    println!(
        "published {sent} events in {took:.1} s ({:.0}/s); delivered {} of {expected} ({} streams told they lagged, {} events missed)",
        sent as f64 / took,
        tally.received.load(Ordering::Relaxed),
        tally.lagged.load(Ordering::Relaxed),
        tally.missed.load(Ordering::Relaxed),
    );
    println!(
        "delivery (publish → client): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.99),
        l.last().map_or(f64::NAN, |m| *m as f64 / 1000.0)
    );
    Ok(())
}
