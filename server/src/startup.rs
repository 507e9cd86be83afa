//! Building and running one Optimus instance: connections, migrations, workers, the router, and
//! graceful shutdown on SIGINT/SIGTERM.

use crate::events::{events_handler, Streams};
use crate::{api_guard, openapi, ops, telemetry};
use anyhow::Context;
use app::server::bus::EventBus;
use app::server::crypto::SecretBox;
use app::server::instances::{self, Instance};
use app::server::jobs::Jobs;
use app::server::metrics::Metrics;
use app::server::ratelimit::RateLimiter;
use app::server::redis::RedisHandle;
use app::server::runtime::Runtime;
use app::server::settings::Settings;
use app::server::{accounts::jwt::JwtKeys, db, AppState};
use app::{shell, App};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use migration::{Migrator, MigratorTrait};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tracing::Instrument;

/// A built instance, bound and ready to serve.
pub struct Application {
    listener: TcpListener,
    port: u16,
    router: Router,
    state: AppState,
}

impl Application {
    /// Connects to the database (running migrations) and Redis, starts workers, and binds.
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        settings.ensure_data_dir_and_secrets()?;
        tracing::info!(database = %settings.database_url_for_logs(), redis = settings.redis_url.is_some(), "starting");
        let db = db::connect(&settings)
            .await
            .with_context(|| format!("connecting to {}", settings.database_url_for_logs()))?;
        Migrator::up(&db, None)
            .await
            .context("running migrations")?;
        let instance = Instance::current();
        instances::register(&db, &instance)
            .await
            .context("recording this instance")?;
        let interrupted = app::server::catalog::fail_interrupted_scans(&db, &instance).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "scans interrupted by the last stop were marked failed"
            );
        }
        let redis = match &settings.redis_url {
            Some(url) => Some(
                RedisHandle::connect(url, &settings.redis_prefix)
                    .await
                    .context("connecting to Redis (OPTIMUS_REDIS_URL)")?,
            ),
            None => None,
        };
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("binding {}", settings.bind))?;
        let addr = listener.local_addr()?;
        let leptos_options = LeptosOptions::builder()
            .output_name("optimus")
            .site_root(settings.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let master_key = settings
            .master_key
            .clone()
            .context("master_key missing after generation")?;
        let jwt_secret = settings
            .jwt_secret
            .clone()
            .context("jwt_secret missing after generation")?;
        let database = if settings.uses_sqlite() {
            "sqlite"
        } else {
            "postgres"
        };
        let settings_slots = settings.pipeline_slots as usize;
        let state = AppState {
            keys: Arc::new(JwtKeys::new(jwt_secret.expose().as_bytes())),
            metrics: Arc::new(Metrics::new(database, redis.is_some())),
            bus: EventBus::new(redis.clone()),
            limiter: RateLimiter::new(redis.clone()),
            redis,
            db,
            settings: Arc::new(settings),
            leptos_options,
            runtime: Runtime::new(),
            pipelines: app::server::pipelines::Executor::new(settings_slots),
            crypto: SecretBox::new(master_key.expose().as_bytes()),
            jobs: Jobs::new(),
            project_pages: app::server::catalog::ProjectPages::new(),
            instance: Arc::new(instance),
        };
        instances::spawn_heartbeat(&state.jobs, state.db.clone(), (*state.instance).clone());
        if let Some(relay) = state.bus.relay(state.jobs.shutdown_signal()) {
            state.jobs.spawn("bus.relay", relay);
        }
        spawn_ops_gauges(&state);
        if let Some(redis) = state.redis.clone() {
            state.jobs.spawn(
                "redis.watch",
                redis_watch(redis, state.metrics.clone(), state.jobs.shutdown_signal()),
            );
        }
        // Reactions to other features' domain events, subscribed before anything can emit.
        app::server::council::follow(&state);
        // Services that kept running while Optimus was down are adopted again; those that ended
        // are recorded (and restarted when their policy says so).
        match state.runtime.reconcile(&state).await {
            Ok((0, 0)) => {}
            Ok((adopted, ended)) => {
                tracing::info!(adopted, ended, "reconciled services from the last run")
            }
            Err(e) => tracing::error!(error = %e, "could not reconcile services"),
        }
        // Services of another instance on this host that is gone are taken over, and scans of
        // instances gone anywhere are marked interrupted, while this one runs.
        state.runtime.watch_orphans(&state, Duration::from_secs(5));
        spawn_interrupted_scans(&state);
        // Pipeline runs: queued ones are claimed, runs of gone instances marked interrupted.
        app::server::pipelines::spawn_executor(&state);
        app::server::pipelines::triggers::spawn(&state);
        // Deployments: queued ones are claimed, one at a time per project.
        app::server::deployments::spawn_worker(&state);
        // Backup jobs: queued ones are claimed, one at a time per policy.
        app::server::backups::spawn_worker(&state);
        app::server::backups::schedules::spawn(&state);
        app::server::backups::self_backup::spawn(&state);
        // Notifications that leave Optimus: due deliveries are taken, one instance each.
        app::server::notifications::spawn_worker(&state);
        app::server::runtime::sampler::spawn(
            &state,
            Duration::from_millis(state.settings.sample_interval_ms),
        );
        let router = build_router(state.clone(), Streams::start(&state));
        Ok(Self {
            listener,
            port: addr.port(),
            router,
            state,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests use it to publish events).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then drains requests and stops workers.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            state,
            ..
        } = self;
        let jobs = state.jobs.clone();
        let signal = async move {
            stop.await;
            tracing::info!("shutting down: finishing in-flight requests");
            jobs.signal_shutdown();
        };
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .await
        .context("serving")?;
        // Services keep running; the next start re-adopts them, or another instance on this host
        // takes them over at once now that this one is forgotten.
        state.runtime.detach_all();
        state.jobs.shutdown(Duration::from_secs(10)).await;
        if let Err(e) = instances::forget(&state.db, &state.instance).await {
            tracing::warn!(error = %e, "could not forget this instance; its work is taken over once it is seen gone");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Every 5 s until shutdown, keeps the gauges the alert rules read current: whether the
/// database answers, the free space where the data and run logs live, and the services left in a
/// crash loop.
fn spawn_ops_gauges(state: &AppState) {
    let (db, metrics) = (state.db.clone(), state.metrics.clone());
    let data_dir = state.settings.data_dir.clone();
    let mut shutdown = state.jobs.shutdown_signal();
    state.jobs.spawn("ops.gauges", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tick.tick() => {
                    let up = db::ping(&db).await;
                    metrics.database_up.set(i64::from(up));
                    metrics.observe_data_dir(&data_dir);
                    if up {
                        match app::server::runtime::crash_looping(&db).await {
                            Ok(n) => {
                                metrics.services_crash_looping.set(i64::try_from(n).unwrap_or(i64::MAX));
                            }
                            Err(e) => tracing::warn!(error = %e, "could not count crash-looping services"),
                        }
                    }
                }
            }
        }
    });
}

/// Every 30 s until shutdown, marks failed the scans of instances that are gone.
fn spawn_interrupted_scans(state: &AppState) {
    let (db, me) = (state.db.clone(), state.instance.clone());
    let mut shutdown = state.jobs.shutdown_signal();
    state.jobs.spawn("catalog.interrupted_scans", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tick.tick() => match app::server::catalog::fail_interrupted_scans(&db, &me).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(interrupted = n, "scans of an instance that is gone were marked failed"),
                    Err(e) => tracing::warn!(error = %e, "could not look for interrupted scans"),
                },
            }
        }
    });
}

/// Pings Redis (every 5 s while it is up, every second while it is down, so that the fallbacks
/// hand back soon after it returns) and keeps the `optimus_redis_up` gauge current, until
/// shutdown.
async fn redis_watch(
    redis: RedisHandle,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut since_ping = u32::MAX;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                since_ping = since_ping.saturating_add(1);
                if redis.is_healthy() && since_ping < 5 {
                    continue;
                }
                since_ping = 0;
                let up = redis.ping().await;
                metrics.redis_up.set(i64::from(up));
            }
        }
    }
}

/// Completes on SIGTERM or SIGINT. The handlers are installed when this is called, not when
/// the future is first polled: a stop asked for as soon as the server answers must find them
/// (without them the default action ends the process at once, undrained and with no exit code).
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        let listen = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, signal = name, "cannot listen for this signal");
                None
            }
        };
        let mut term = listen(SignalKind::terminate(), "SIGTERM");
        let mut int = listen(SignalKind::interrupt(), "SIGINT");
        async fn received(s: Option<&mut Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        async move {
            tokio::select! {
                _ = received(term.as_mut()) => {}
                _ = received(int.as_mut()) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn server_fn_handler(State(state): State<AppState>, req: Request) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_context(state.clone()), req).await
}

async fn openapi_json() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi::document_json(),
    )
}

/// Labels a request by its matched route: server functions by their own path, static files and
/// unknown paths by a fixed label, so the metric's cardinality stays bounded.
fn route_label(req: &Request) -> String {
    let path = req.uri().path();
    if path.starts_with("/api/v1/") && openapi::request_rules().contains_key(path) {
        return path.to_owned();
    }
    if let Some(m) = req.extensions().get::<MatchedPath>() {
        return m.as_str().to_owned();
    }
    if path.starts_with("/pkg/") {
        return "/pkg/{file}".to_owned();
    }
    "unmatched".to_owned()
}

async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = route_label(&req);
    let method = req.method().to_string();
    let start = Instant::now();
    // Named and described as OpenTelemetry's HTTP conventions say, for APM views.
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    telemetry::continue_remote_trace(&span, req.headers());
    let res = next.run(req).instrument(span.clone()).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    state
        .metrics
        .observe_request(&route, &method, status, elapsed.as_secs_f64());
    if status >= 500 {
        tracing::warn!(%method, %route, status, latency_ms = elapsed.as_millis() as u64, "request failed");
    } else {
        tracing::debug!(%method, %route, status, latency_ms = elapsed.as_millis() as u64, "request");
    }
    res
}

/// The whole router: operations endpoints, the API, the events stream, pages and static files.
pub fn build_router(state: AppState, streams: Streams) -> Router {
    let options = state.leptos_options.clone();
    let routes = generate_route_list(App);
    let api = Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/events", get(events_handler))
        .route(
            crate::export::ROUTE.path,
            get(crate::export::export_projects),
        )
        .route(
            crate::log_download::ROUTE.path,
            get(crate::log_download::download_logs),
        )
        .route(
            crate::artifact_download::ROUTE.path,
            get(crate::artifact_download::download_artifact),
        )
        .route(
            crate::step_log_download::ROUTE.path,
            get(crate::step_log_download::download_step_log),
        )
        .route("/api/v1/hooks/{id}", post(crate::hooks::deliver))
        .route(
            crate::mcp::PATH,
            post(crate::mcp::post_mcp).get(crate::mcp::get_mcp),
        )
        .route("/api/v1/{*fn_name}", post(server_fn_handler))
        .layer(axum::Extension(streams));
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let app = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(api)
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        // Outside the routes: leptos_axum registers each server function as a route of its own.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            api_guard::api_guard,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .layer(CompressionLayer::new())
        .with_state(state);
    // MCP tools call the API through the very router a client reaches.
    let inner = crate::mcp::Inner(app.clone());
    app.layer(axum::Extension(inner))
}
