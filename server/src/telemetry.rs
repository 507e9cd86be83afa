//! Structured logs (JSON when not on a terminal, readable otherwise) and, with `otlp_endpoint`
//! set, traces: request and job spans exported over OTLP/HTTP (protobuf) to a collector.
//!
//! The log filter (`log`) only shapes the log; spans at `info` and above are exported whatever
//! it says. The standard `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_*` and
//! `OTEL_SERVICE_NAME` variables are honoured by the OpenTelemetry SDK.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Set once spans are exported: only then is a caller's `traceparent` worth reading.
static PROPAGATOR: OnceLock<TraceContextPropagator> = OnceLock::new();

/// What [`init`] installed; [`Telemetry::shutdown`] sends the spans still buffered.
#[must_use = "shut it down to send the last spans"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn exports_traces(&self) -> bool {
        self.traces.is_some()
    }

    /// Exports what is buffered and stops the exporter (waits up to 5 s).
    pub async fn shutdown(self) {
        let Some(provider) = self.traces else { return };
        // The exporter thread sends through this runtime: flush from a blocking thread so a
        // worker stays free to carry the request.
        let done = tokio::task::spawn_blocking(move || {
            provider.shutdown_with_timeout(Duration::from_secs(5))
        })
        .await;
        if let Ok(Err(error)) = done {
            eprintln!("optimus: the last spans could not be exported: {error}");
        }
    }
}

/// Installs the global subscriber. `format` is `auto`, `json` or `pretty`; `traces_url` is where
/// spans go (`…/v1/traces`), if anywhere. Safe to call twice (the first call wins). Must run
/// inside the Tokio runtime when `traces_url` is set: the exporter sends through it.
pub fn init(filter: &str, format: &str, traces_url: Option<&str>) -> Telemetry {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        "json" => true,
        "pretty" => false,
        _ => !std::io::stdout().is_terminal(),
    };
    let logs = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer().with_filter(filter).boxed()
    };
    let provider = traces_url.and_then(|url| match tracer_provider(url) {
        Ok(p) => Some(p),
        Err(error) => {
            eprintln!("optimus: traces are not exported: {error}");
            None
        }
    });
    let spans = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("optimus"))
            .with_filter(LevelFilter::INFO)
    });
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()
        .is_ok();
    if !installed {
        // Another subscriber was already in place (a second call, or a test harness): its
        // spans would never reach this provider.
        if let Some(p) = provider {
            let _ = p.shutdown();
        }
        return Telemetry { traces: None };
    }
    if provider.is_some() {
        let _ = PROPAGATOR.set(TraceContextPropagator::new());
    }
    Telemetry { traces: provider }
}

fn tracer_provider(url: &str) -> Result<SdkTracerProvider, String> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| "no Tokio runtime to send spans through".to_owned())?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OnRuntime { client, runtime })
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut resource = Resource::builder().with_attributes([
        KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        KeyValue::new("service.instance.id", uuid::Uuid::new_v4().to_string()),
    ]);
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("optimus");
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// Makes `span` a child of the caller's trace when the request carries a W3C `traceparent`
/// (and spans are exported at all).
pub fn continue_remote_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    let Some(propagator) = PROPAGATOR.get() else {
        return;
    };
    let parent = propagator.extract(&opentelemetry_http::HeaderExtractor(headers));
    if parent.span().span_context().is_remote() {
        let _ = span.set_parent(parent);
    }
}

/// Sends the exporter's requests with Optimus's reqwest client on the server's runtime. The
/// SDK's batch exporter runs on a thread of its own and waits there, so the request itself is
/// handed to the runtime, where reqwest's connections live.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OnRuntime {
    async fn send_bytes(
        &self,
        request: http::Request<opentelemetry_http::Bytes>,
    ) -> Result<http::Response<opentelemetry_http::Bytes>, opentelemetry_http::HttpError> {
        let client = self.client.clone();
        let (parts, body) = request.into_parts();
        let sent = self.runtime.spawn(async move {
            let res = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = res.status();
            let headers = res.headers().clone();
            let bytes = res.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, bytes))
        });
        let (status, headers, bytes) = sent.await??;
        let mut response = http::Response::new(bytes);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }
}
