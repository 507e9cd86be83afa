//! Prometheus metrics, one registry per instance (so test instances never share counters).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The matched route, never the raw path.
    pub route: String,
    /// The method.
    pub method: String,
    /// The response status code.
    pub status: u16,
}

/// Labels of the build-info gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    /// Crate version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Whether Redis is configured.
    pub redis: String,
}

/// Labels of the pool gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `in_use`, `idle` or `max`.
    pub state: String,
}

/// Labels of a service's resource gauges: ids only, so cardinality is bounded by the number of
/// running services and no user text reaches the exposition.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    /// The project id.
    pub project_id: String,
    /// The service id.
    pub service_id: String,
}

/// Every metric Optimus exports.
pub struct Metrics {
    registry: Registry,
    /// `optimus_http_requests_total`.
    pub http_requests: Family<HttpLabels, Counter>,
    /// `optimus_http_request_duration_seconds`.
    pub http_duration: Family<HttpLabels, Histogram>,
    /// `optimus_db_pool_connections`.
    pub db_pool: Family<PoolLabels, Gauge>,
    /// `optimus_redis_up`.
    pub redis_up: Gauge,
    /// `optimus_websocket_clients`.
    pub ws_clients: Gauge,
    /// `optimus_build_info`.
    pub build_info: Family<BuildLabels, Gauge>,
    /// `optimus_service_cpu_percent`.
    pub service_cpu: Family<ServiceLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    /// `optimus_service_memory_resident_bytes`.
    pub service_rss: Family<ServiceLabels, Gauge>,
    /// `optimus_service_threads`.
    pub service_threads: Family<ServiceLabels, Gauge>,
    /// `optimus_service_open_files`.
    pub service_fds: Family<ServiceLabels, Gauge>,
    /// `optimus_services_running`.
    pub services_running: Gauge,
    /// `optimus_services_crash_looping`.
    pub services_crash_looping: Gauge,
    /// `optimus_database_up`.
    pub database_up: Gauge,
    /// `optimus_data_dir_available_bytes`.
    pub data_dir_available: Gauge,
    /// `optimus_data_dir_size_bytes`.
    pub data_dir_size: Gauge,
}

impl Metrics {
    /// Registers every metric.
    pub fn new(database: &str, redis: bool) -> Self {
        let mut registry = Registry::with_prefix("optimus");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served",
            http_requests.clone(),
        );
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_duration.clone(),
        );
        let db_pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            db_pool.clone(),
        );
        let redis_up = Gauge::default();
        registry.register(
            "redis_up",
            "1 when Redis answers, 0 when not (absent without Redis)",
            redis_up.clone(),
        );
        let ws_clients = Gauge::default();
        registry.register(
            "websocket_clients",
            "Connected event-stream clients",
            ws_clients.clone(),
        );
        let build_info = Family::<BuildLabels, Gauge>::default();
        registry.register("build_info", "Build information", build_info.clone());
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                database: database.to_owned(),
                redis: redis.to_string(),
            })
            .set(1);
        let service_cpu =
            Family::<ServiceLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "service_cpu_percent",
            "CPU use of a running service's process tree (100 = one core)",
            service_cpu.clone(),
        );
        let service_rss = Family::<ServiceLabels, Gauge>::default();
        registry.register(
            "service_memory_resident_bytes",
            "Resident memory of a running service's process tree",
            service_rss.clone(),
        );
        let service_threads = Family::<ServiceLabels, Gauge>::default();
        registry.register(
            "service_threads",
            "Threads of a running service's process tree",
            service_threads.clone(),
        );
        let service_fds = Family::<ServiceLabels, Gauge>::default();
        registry.register(
            "service_open_files",
            "Open file descriptors of a running service's process tree",
            service_fds.clone(),
        );
        let services_running = Gauge::default();
        registry.register(
            "services_running",
            "Services with a live process supervised by this instance",
            services_running.clone(),
        );
        let services_crash_looping = Gauge::default();
        registry.register(
            "services_crash_looping",
            "Services left stopped after restarting too often in a row (from the database, so \
             every instance reports the same count)",
            services_crash_looping.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "1 when the database answers, 0 when not",
            database_up.clone(),
        );
        let data_dir_available = Gauge::default();
        registry.register(
            "data_dir_available_bytes",
            "Free space for Optimus on the filesystem of its data folder (database, run logs)",
            data_dir_available.clone(),
        );
        let data_dir_size = Gauge::default();
        registry.register(
            "data_dir_size_bytes",
            "Size of the filesystem of Optimus's data folder",
            data_dir_size.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            db_pool,
            redis_up,
            ws_clients,
            build_info,
            service_cpu,
            service_rss,
            service_threads,
            service_fds,
            services_running,
            services_crash_looping,
            database_up,
            data_dir_available,
            data_dir_size,
        }
    }

    /// Records one served request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let labels = HttpLabels {
            route: route.to_owned(),
            method: method.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_duration.get_or_create(&labels).observe(seconds);
    }

    /// Sets the pool gauges.
    pub fn set_pool(&self, open: u32, idle: u32, max: u32) {
        let set = |state: &str, v: u32| {
            self.db_pool
                .get_or_create(&PoolLabels {
                    state: state.to_owned(),
                })
                .set(i64::from(v));
        };
        set("in_use", open.saturating_sub(idle));
        set("idle", idle);
        set("max", max);
    }

    /// Replaces the service gauges with the latest samples (stopped services disappear).
    pub fn observe_services(&self, samples: &[crate::models::runtime::ResourceSample]) {
        self.service_cpu.clear();
        self.service_rss.clear();
        self.service_threads.clear();
        self.service_fds.clear();
        for s in samples {
            let l = ServiceLabels {
                project_id: s.project_id.to_string(),
                service_id: s.service_id.to_string(),
            };
            self.service_cpu.get_or_create(&l).set(s.cpu_percent);
            self.service_rss
                .get_or_create(&l)
                .set(i64::try_from(s.rss_bytes).unwrap_or(i64::MAX));
            self.service_threads
                .get_or_create(&l)
                .set(i64::try_from(s.threads).unwrap_or(i64::MAX));
            self.service_fds
                .get_or_create(&l)
                .set(i64::try_from(s.open_files).unwrap_or(i64::MAX));
        }
        self.services_running
            .set(i64::try_from(samples.len()).unwrap_or(i64::MAX));
    }

    /// Sets the data folder's filesystem gauges (left as they were if it cannot be read).
    pub fn observe_data_dir(&self, path: &std::path::Path) {
        let Ok(fs) = nix::sys::statvfs::statvfs(path) else {
            return;
        };
        let bytes = |blocks: u64| {
            i64::try_from(blocks.saturating_mul(fs.fragment_size())).unwrap_or(i64::MAX)
        };
        self.data_dir_available.set(bytes(fs.blocks_available()));
        self.data_dir_size.set(bytes(fs.blocks()));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_status() {
        let m = Metrics::new("sqlite", false);
        m.observe_request("/api/v1/auth/me", "POST", 200, 0.001);
        m.observe_request("/api/v1/auth/me", "POST", 200, 0.002);
        let text = m.render();
        assert!(text.contains(r#"optimus_http_requests_total{route="/api/v1/auth/me",method="POST",status="200"} 2"#), "{text}");
        assert!(text.contains("optimus_http_request_duration_seconds_bucket"));
        assert!(text.contains("optimus_build_info"));
    }
}
