//! The proxy over real sockets: real upstream HTTP servers on loopback, the proxy serving in this
//! process (as `optimus-proxy` does in its own), clients speaking HTTP/1.1, HTTP/2 and upgrades.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use optimus_proxy::client::{self, Error};
use optimus_proxy::{control, RouteSpec};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// An upstream service named `name`: `/` answers its name, `/slow?ms=N` after N ms, `/fail` 500,
/// `/headers` the forwarded headers, `/echo` upgrades and echoes bytes.
async fn upstream(name: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| answer(name, req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

async fn answer(
    name: &'static str,
    mut req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let text = |s: String| Response::new(Full::new(Bytes::from(s)));
    Ok(match req.uri().path() {
        "/slow" => {
            let ms: u64 = req
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("ms="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(500);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            text(name.to_string())
        }
        "/fail" => {
            let mut r = text("broken".into());
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
        "/headers" => {
            let h = req.headers();
            let get = |k: &str| {
                h.get(k)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string()
            };
            text(format!(
                "host={} xff={} proto={} xhost={} secret={}",
                get("host"),
                get("x-forwarded-for"),
                get("x-forwarded-proto"),
                get("x-forwarded-host"),
                get("x-secret")
            ))
        }
        "/echo" => {
            let on = hyper::upgrade::on(&mut req);
            tokio::spawn(async move {
                if let Ok(up) = on.await {
                    let mut io = TokioIo::new(up);
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = io.read(&mut buf).await {
                        if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            });
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            r.headers_mut().insert("upgrade", "echo".parse().unwrap());
            r.headers_mut()
                .insert("connection", "upgrade".parse().unwrap());
            r
        }
        _ => text(name.to_string()),
    })
}

/// A proxy serving `dir` in this process until dropped.
struct Proxy {
    dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

impl Proxy {
    async fn start(dir: &Path) -> Proxy {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let owned = dir.to_path_buf();
        let task = tokio::spawn(async move {
            control::serve(&owned, async {
                let _ = stopped.await;
            })
            .await
        });
        for _ in 0..200 {
            if client::status(dir).await.is_ok() {
                return Proxy {
                    dir: dir.to_path_buf(),
                    stop: Some(stop),
                    task,
                };
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the proxy did not come up");
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
    }

    async fn set(
        &self,
        name: &str,
        listen: SocketAddr,
        hosts: &[&str],
        target: Option<SocketAddr>,
    ) {
        let spec = RouteSpec {
            listen,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            target,
        };
        client::set_route(&self.dir, name, &spec).await.unwrap();
    }
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn http() -> Http {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn get(c: &Http, at: SocketAddr, path: &str, host: Option<&str>) -> (StatusCode, String) {
    let mut b = Request::get(format!("http://{at}{path}"));
    if let Some(h) = host {
        b = b.header("host", h);
    }
    let resp = c.request(b.body(Full::default()).unwrap()).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn requests_go_by_host_name_and_the_proxy_answers_what_it_cannot_forward() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(dir.path()).await;
    let (web, api) = (upstream("web").await, upstream("api").await);
    let listen = free_port();
    proxy.set("web", listen, &[], Some(web)).await;
    proxy.set("api", listen, &["api.test"], Some(api)).await;
    let c = http();
    assert_eq!(
        get(&c, listen, "/", None).await,
        (StatusCode::OK, "web".into())
    );
    assert_eq!(
        get(&c, listen, "/", Some("API.test:80")).await,
        (StatusCode::OK, "api".into())
    );
    let (_, headers) = get(&c, listen, "/headers", Some("api.test")).await;
    assert_eq!(
        headers,
        "host=api.test xff=127.0.0.1 proto=http xhost=api.test secret=-"
    );

    // A route without a target, a target that is down, and an address with no route for the host.
    let bare = free_port();
    proxy.set("bare", bare, &["only.test"], None).await;
    let (status, _) = get(&c, bare, "/", Some("only.test")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = get(&c, bare, "/", Some("other.test")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let down = free_port();
    proxy.set("bare", bare, &["only.test"], Some(down)).await;
    let (status, body) = get(&c, bare, "/", Some("only.test")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");

    // Counters per target: responses by class, and what the target never answered.
    assert_eq!(
        get(&c, listen, "/fail", None).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let s = client::status(dir.path()).await.unwrap();
    let of = |name: &str| s.routes.iter().find(|r| r.name == name).unwrap().targets[0].clone();
    let w = of("web");
    assert_eq!(
        (w.requests, w.status_2xx, w.status_5xx, w.in_flight),
        (2, 1, 1, 0),
        "{w:?}"
    );
    assert_eq!((of("api").requests, of("api").status_2xx), (2, 2));
    assert_eq!((of("bare").requests, of("bare").failed), (1, 1));
    proxy.stop().await;
}

#[tokio::test]
async fn a_switch_sends_new_requests_to_the_new_target_while_requests_under_way_finish_on_the_old()
{
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(dir.path()).await;
    let (blue, green) = (upstream("blue").await, upstream("green").await);
    let listen = free_port();
    proxy.set("app", listen, &[], Some(blue)).await;
    let c = http();
    let slow = tokio::spawn({
        let c = c.clone();
        async move { get(&c, listen, "/slow?ms=800", None).await }
    });
    // Wait until the slow request is under way on blue, then switch.
    for _ in 0..100 {
        let r = client::route(dir.path(), "app").await.unwrap().unwrap();
        if r.targets[0].in_flight == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proxy.set("app", listen, &[], Some(green)).await;
    assert_eq!(get(&c, listen, "/", None).await.1, "green");
    let r = client::route(dir.path(), "app").await.unwrap().unwrap();
    assert_eq!(r.targets[0].target, green.to_string());
    assert_eq!(r.targets[1].target, blue.to_string());
    assert_eq!(
        r.targets[1].in_flight, 1,
        "blue still has the slow request: {r:?}"
    );
    assert_eq!(slow.await.unwrap(), (StatusCode::OK, "blue".into()));
    let r = client::route(dir.path(), "app").await.unwrap().unwrap();
    assert_eq!(r.targets[1].in_flight, 0, "blue drained: {r:?}");
    assert_eq!(r.targets[0].requests, 1);
    proxy.stop().await;
}

#[tokio::test]
async fn routes_survive_a_restart_of_the_proxy_and_one_proxy_owns_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(dir.path()).await;
    let web = upstream("web").await;
    let listen = free_port();
    proxy.set("web", listen, &[], Some(web)).await;
    let second = control::serve(dir.path(), std::future::ready(())).await;
    assert!(second.unwrap_err().contains("another optimus-proxy"));
    proxy.stop().await;
    assert!(matches!(
        client::status(dir.path()).await,
        Err(Error::NotRunning(_))
    ));

    let proxy = Proxy::start(dir.path()).await;
    assert_eq!(get(&http(), listen, "/", None).await.1, "web");
    assert!(client::remove_route(dir.path(), "web").await.unwrap());
    assert!(!client::remove_route(dir.path(), "web").await.unwrap());
    proxy.stop().await;
    let proxy = Proxy::start(dir.path()).await;
    assert!(client::status(dir.path()).await.unwrap().routes.is_empty());
    proxy.stop().await;
}

#[tokio::test]
async fn a_busy_port_or_a_bad_route_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(dir.path()).await;
    let web = upstream("web").await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let spec = RouteSpec {
        listen: taken.local_addr().unwrap(),
        hosts: vec![],
        target: Some(web),
    };
    match client::set_route(dir.path(), "web", &spec).await {
        Err(Error::Refused {
            status: 409,
            message,
        }) => {
            assert!(message.starts_with("listen: cannot listen on"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match client::set_route(dir.path(), "Not Valid", &spec).await {
        Err(Error::Refused {
            status: 400,
            message,
        }) => assert!(message.contains("route name")),
        other => panic!("{other:?}"),
    }
    let listen = free_port();
    proxy.set("web", listen, &[], Some(web)).await;
    let clash = RouteSpec {
        listen,
        hosts: vec![],
        target: Some(web),
    };
    match client::set_route(dir.path(), "again", &clash).await {
        Err(Error::Refused {
            status: 409,
            message,
        }) => assert!(message.contains("`web`")),
        other => panic!("{other:?}"),
    }
    let routes = client::status(dir.path()).await.unwrap().routes;
    assert_eq!(routes.len(), 1, "{routes:?}");
    let kept = optimus_proxy::routes::load(dir.path()).unwrap();
    assert_eq!(kept.keys().collect::<Vec<_>>(), ["web"]);
    proxy.stop().await;
}

#[tokio::test]
async fn upgraded_connections_are_tunnelled_both_ways_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(dir.path()).await;
    let listen = free_port();
    proxy
        .set("ws", listen, &[], Some(upstream("ws").await))
        .await;
    let mut s = tokio::net::TcpStream::connect(listen).await.unwrap();
    s.write_all(
        b"GET /echo HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: echo"), "{head}");
    s.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    s.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"ping");
    let r = client::route(dir.path(), "ws").await.unwrap().unwrap();
    assert_eq!(
        (r.targets[0].tunnels, r.targets[0].in_flight),
        (1, 0),
        "{r:?}"
    );
    drop(s);
    for _ in 0..100 {
        let r = client::route(dir.path(), "ws").await.unwrap().unwrap();
        if r.targets[0].tunnels == 0 {
            proxy.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the tunnel was not closed with its client");
}

#[tokio::test]
async fn http2_clients_are_served_over_http1_targets() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(dir.path()).await;
    let listen = free_port();
    proxy
        .set("web", listen, &["h2.test"], Some(upstream("web").await))
        .await;
    // HTTP/2 without TLS ("prior knowledge"), for a host name the proxy routes by.
    let stream = tokio::net::TcpStream::connect(listen).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let resp = send
        .send_request(
            Request::get(format!("http://h2.test:{}/headers", listen.port()))
                .body(Full::<Bytes>::default())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.starts_with(&format!("host=h2.test:{}", listen.port())),
        "{body}"
    );
    proxy.stop().await;
}
