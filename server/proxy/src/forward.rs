//! The data path: accepts connections on a route's address (HTTP/1.1, or HTTP/2 without TLS),
//! picks the route by host name, forwards each request over a pooled HTTP/1.1 connection to the
//! route's current target, and tunnels upgraded connections (WebSockets) both ways. The target
//! is looked up per request, so a switch applies to the next request even on a kept-alive
//! connection, while requests already under way finish where they started.

use crate::routes::{Counters, Table};
use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri, Version};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A response body: the target's, counted until it is sent, or the proxy's own.
pub type ProxyBody = UnsyncBoxBody<Bytes, hyper::Error>;

/// Headers that describe one hop, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

/// Forwards requests by the route table it shares with the control API.
pub struct Forwarder {
    table: Arc<RwLock<Table>>,
    client: Client<HttpConnector, Incoming>,
}

impl Forwarder {
    pub fn new(table: Arc<RwLock<Table>>) -> Arc<Self> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(512)
            .build(connector);
        Arc::new(Self { table, client })
    }

    /// Serves the connections `listener` accepts as address `listen` until `stop` turns true;
    /// connections then finish the request under way and close (HTTP/2: GOAWAY).
    pub async fn listen(
        self: Arc<Self>,
        listener: TcpListener,
        listen: SocketAddr,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stop.wait_for(|s| *s) => return,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    crate::log(&format!("accepting on {listen}: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let me = self.clone();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let me = me.clone();
                    async move { Ok::<_, Infallible>(me.handle(listen, peer, req).await) }
                });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let mut conn = std::pin::pin!(conn);
                let stopping = tokio::select! {
                    _ = conn.as_mut() => false,
                    _ = stop.wait_for(|s| *s) => true,
                };
                if stopping {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            });
        }
    }

    /// Forwards one request to its route's current target.
    pub async fn handle(
        &self,
        listen: SocketAddr,
        peer: SocketAddr,
        mut req: Request<Incoming>,
    ) -> Response<ProxyBody> {
        let host = host_of(&req);
        let picked = match self.table.read() {
            Ok(t) => t.pick(listen, host.as_deref()),
            Err(_) => None,
        };
        let Some(picked) = picked else {
            return plain(
                StatusCode::NOT_FOUND,
                "optimus-proxy: no route for this host\n",
            );
        };
        let Some((target, counters)) = picked.target else {
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "optimus-proxy: this route has no target yet\n",
            );
        };
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let guard = InFlight::start(counters.clone());
        let upgrade =
            req.headers().contains_key(header::UPGRADE) && req.version() == Version::HTTP_11;
        let downstream = upgrade.then(|| hyper::upgrade::on(&mut req));
        let out = match outgoing(req, target, peer, host.as_deref(), upgrade) {
            Ok(r) => r,
            Err(msg) => return plain(StatusCode::BAD_REQUEST, msg),
        };
        let mut resp = match self.client.request(out).await {
            Ok(r) => r,
            Err(e) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                crate::log(&format!("{target}: {e}"));
                return plain(
                    StatusCode::BAD_GATEWAY,
                    "optimus-proxy: the service did not answer\n",
                );
            }
        };
        let status = resp.status();
        counters.count_status(status.as_u16());
        if let (Some(downstream), StatusCode::SWITCHING_PROTOCOLS) = (downstream, status) {
            let upstream = hyper::upgrade::on(&mut resp);
            tokio::spawn(tunnel(downstream, upstream, counters));
            drop(guard);
            let (mut parts, _) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers, true);
            return Response::from_parts(parts, empty());
        }
        let (mut parts, body) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers, false);
        Response::from_parts(
            parts,
            Tracked {
                inner: body,
                _guard: guard,
            }
            .boxed_unsync(),
        )
    }
}

/// Copies both ways between an upgraded client connection and its target until either closes.
async fn tunnel(
    downstream: hyper::upgrade::OnUpgrade,
    upstream: hyper::upgrade::OnUpgrade,
    counters: Arc<Counters>,
) {
    let (d, u) = tokio::join!(downstream, upstream);
    let (Ok(d), Ok(u)) = (d, u) else { return };
    counters.tunnels.fetch_add(1, Ordering::Relaxed);
    let _ = tokio::io::copy_bidirectional(&mut TokioIo::new(d), &mut TokioIo::new(u)).await;
    counters.tunnels.fetch_sub(1, Ordering::Relaxed);
}

/// The request as the target gets it: absolute URI to the target, hop-by-hop headers dropped
/// (but the upgrade ones when upgrading), `X-Forwarded-*` added, HTTP/1.1.
fn outgoing(
    req: Request<Incoming>,
    target: SocketAddr,
    peer: SocketAddr,
    host: Option<&str>,
    upgrade: bool,
) -> Result<Request<Incoming>, &'static str> {
    let (mut parts, body) = req.into_parts();
    let original_host = parts.headers.get(header::HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = Uri::builder()
        .scheme("http")
        .authority(target.to_string())
        .path_and_query(path)
        .build()
        .map_err(|_| "optimus-proxy: the request's path is not valid\n")?;
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers, upgrade);
    if upgrade {
        parts
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
    if let Some(h) = original_host {
        parts.headers.insert(header::HOST, h);
    }
    let forwarded_for = match parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
    {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&forwarded_for) {
        parts.headers.insert("x-forwarded-for", v);
    }
    let headers = &mut parts.headers;
    headers
        .entry("x-forwarded-proto")
        .or_insert(HeaderValue::from_static("http"));
    if let Some(h) = host.and_then(|h| HeaderValue::from_str(h).ok()) {
        headers.entry("x-forwarded-host").or_insert(h);
    }
    Ok(Request::from_parts(parts, body))
}

/// Drops hop-by-hop headers and those `Connection` names; `Upgrade` stays when upgrading.
fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        if !(upgrade && n == header::UPGRADE) {
            headers.remove(n);
        }
    }
    for n in HOP_BY_HOP {
        headers.remove(n);
    }
    if !upgrade {
        headers.remove(header::UPGRADE);
    } else {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// The host name a request is for, lower case without a port.
fn host_of<B>(req: &Request<B>) -> Option<String> {
    let raw = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())?;
    let name = match raw.rsplit_once(':') {
        Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !n.ends_with(':') => n,
        _ => raw,
    };
    Some(name.trim_end_matches('.').to_ascii_lowercase())
}

fn plain(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let mut resp = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn empty() -> ProxyBody {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Counts a request as under way from its arrival until its response is sent (or dropped).
struct InFlight(Arc<Counters>);

impl InFlight {
    fn start(counters: Arc<Counters>) -> Self {
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(counters)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The target's response body, keeping its request counted as under way until sent.
struct Tracked {
    inner: Incoming,
    _guard: InFlight,
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(host: Option<&str>, uri: &str) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        if let Some(h) = host {
            b = b.header(header::HOST, h);
        }
        b.body(()).unwrap_or_default()
    }

    #[test]
    fn the_host_is_read_without_port_or_case_from_the_header_or_the_uri() {
        assert_eq!(
            host_of(&req(Some("API.test:8080"), "/")).as_deref(),
            Some("api.test")
        );
        assert_eq!(
            host_of(&req(Some("api.test."), "/")).as_deref(),
            Some("api.test")
        );
        assert_eq!(
            host_of(&req(None, "http://h2.test:443/x")).as_deref(),
            Some("h2.test")
        );
        assert_eq!(host_of(&req(None, "/x")), None);
    }

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_dropped() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        let mut plain = h.clone();
        strip_hop_by_hop(&mut plain, false);
        assert_eq!(plain.len(), 1, "{plain:?}");
        assert!(plain.contains_key("x-kept"));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(
            h.get(header::UPGRADE).map(|v| v.as_bytes()),
            Some(&b"websocket"[..])
        );
        assert_eq!(
            h.get(header::CONNECTION).map(|v| v.as_bytes()),
            Some(&b"upgrade"[..])
        );
        assert!(!h.contains_key("x-secret"));
    }
}
