//! The proxy's life and its control API: one proxy per folder (a lock), routes loaded from the
//! folder and listened on at start, and HTTP/1.1 on the Unix socket `control.sock` (owner only):
//!
//! - `GET /v1/status` → [`Status`];
//! - `GET /v1/routes/{name}` → [`RouteStatus`] (404 when absent);
//! - `PUT /v1/routes/{name}` with a [`RouteSpec`] → the route as now held. The change is on disk
//!   before it answers; a new address is listened on first, so a busy port is a 409 and changes
//!   nothing. 400 for a route that breaks the rules, 409 for one that clashes with another;
//! - `DELETE /v1/routes/{name}` → 204 (404 when absent); its address closes when no route is left
//!   on it (requests under way finish).
//!
//! Errors are `{"error": "…"}`. On SIGTERM it stops accepting, lets requests under way finish
//! (at most [`DRAIN_AT_EXIT`]) and exits; the routes stay in the folder for the next start.

use crate::forward::Forwarder;
use crate::routes::{self, Table};
use crate::{ControlError, RouteSpec, Status, CONTROL_SOCKET, LOCK_FILE, PID_FILE};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, UnixListener};
use tokio::sync::{watch, Mutex};

/// How long requests under way may take to finish when the proxy is stopped.
pub const DRAIN_AT_EXIT: Duration = Duration::from_secs(10);

/// Largest control request body.
const MAX_BODY: usize = 64 * 1024;

struct Control {
    dir: PathBuf,
    table: Arc<RwLock<Table>>,
    forwarder: Arc<Forwarder>,
    /// One stop switch per listened address; changes to routes are made one at a time.
    listeners: Mutex<HashMap<SocketAddr, watch::Sender<bool>>>,
}

/// Runs the proxy whose folder is `dir` until `stop` completes.
pub async fn serve(dir: &Path, stop: impl Future<Output = ()>) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| format!("cannot open the lock file: {e}"))?;
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|_| format!("another optimus-proxy is running for {}", dir.display()))?;
    std::fs::write(dir.join(PID_FILE), std::process::id().to_string())
        .map_err(|e| format!("cannot write the pid file: {e}"))?;

    let table = Arc::new(RwLock::new(Table::default()));
    let control = Arc::new(Control {
        dir: dir.to_path_buf(),
        forwarder: Forwarder::new(table.clone()),
        table,
        listeners: Mutex::new(HashMap::new()),
    });
    control.restore()?;

    let socket = dir.join(CONTROL_SOCKET);
    let _ = std::fs::remove_file(&socket);
    let unix = UnixListener::bind(&socket)
        .map_err(|e| format!("cannot listen on {}: {e}", socket.display()))?;
    let _ = std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600));
    crate::log(&format!(
        "serving {} routes; control on {}",
        control.read().statuses().len(),
        socket.display()
    ));

    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            a = unix.accept() => a,
            () = &mut stop => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let control = control.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let control = control.clone();
                async move { Ok::<_, std::convert::Infallible>(control.answer(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }

    crate::log("stopping: no new connections; letting requests under way finish");
    let _ = std::fs::remove_file(&socket);
    for (_, off) in control.listeners.lock().await.drain() {
        let _ = off.send(true);
    }
    let deadline = tokio::time::Instant::now() + DRAIN_AT_EXIT;
    while control.read().busy() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

impl Control {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the routes kept in the folder and listens on their addresses; an address that
    /// cannot be listened on is recorded on its routes (and tried again when they are set).
    fn restore(self: &Arc<Self>) -> Result<(), String> {
        let kept = routes::load(&self.dir)?;
        let mut listeners = self
            .listeners
            .try_lock()
            .map_err(|_| "the listeners are busy at start".to_string())?;
        for (name, spec) in kept {
            if let Err(r) = self.read().check(&name, &spec) {
                crate::log(&format!("route `{name}` left out: {}", r.message));
                continue;
            }
            self.write().set(&name, spec);
        }
        let addresses = self.read().addresses();
        for addr in addresses {
            match bind(addr) {
                Ok(l) => {
                    listeners.insert(addr, self.spawn_listener(l, addr));
                }
                Err(e) => {
                    crate::log(&e);
                    let mut t = self.write();
                    for name in t.names_on(addr) {
                        t.set_error(&name, Some(e.clone()));
                    }
                }
            }
        }
        Ok(())
    }

    fn spawn_listener(&self, listener: TcpListener, addr: SocketAddr) -> watch::Sender<bool> {
        let (off, stop) = watch::channel(false);
        tokio::spawn(self.forwarder.clone().listen(listener, addr, stop));
        off
    }

    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_string();
        let route = path.strip_prefix("/v1/routes/").map(percent_decoded);
        match (req.method().clone(), path.as_str(), route) {
            (Method::GET, "/v1/status", _) => json(
                StatusCode::OK,
                &Status {
                    pid: std::process::id(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    routes: self.read().statuses(),
                },
            ),
            (Method::GET, _, Some(name)) => match self.read().status(&name) {
                Some(s) => json(StatusCode::OK, &s),
                None => error(StatusCode::NOT_FOUND, format!("no route `{name}`")),
            },
            (Method::PUT, _, Some(name)) => {
                let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
                    Ok(b) => b.to_bytes(),
                    Err(e) => return error(StatusCode::BAD_REQUEST, format!("body: {e}")),
                };
                match serde_json::from_slice::<RouteSpec>(&body) {
                    Ok(spec) => self.set(&name, spec).await,
                    Err(e) => error(StatusCode::BAD_REQUEST, format!("body: {e}")),
                }
            }
            (Method::DELETE, _, Some(name)) => self.remove(&name).await,
            _ => error(
                StatusCode::NOT_FOUND,
                format!("no such control call: {} {path}", req.method()),
            ),
        }
    }

    async fn set(&self, name: &str, spec: RouteSpec) -> Response<Full<Bytes>> {
        let mut listeners = self.listeners.lock().await;
        if let Err(r) = self.read().check(name, &spec) {
            let status = if r.conflict {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            return error(status, r.message);
        }
        // Listen first: a busy port refuses the change before anything else moves.
        let opened = if listeners.contains_key(&spec.listen) {
            None
        } else {
            match bind(spec.listen) {
                Ok(l) => Some(l),
                Err(e) => return error(StatusCode::CONFLICT, e),
            }
        };
        let mut kept = self.read().specs();
        let before = kept.insert(name.to_string(), spec.clone());
        if let Err(e) = routes::save(&self.dir, &kept) {
            return error(StatusCode::INTERNAL_SERVER_ERROR, e);
        }
        if let Some(l) = opened {
            let off = self.spawn_listener(l, spec.listen);
            listeners.insert(spec.listen, off);
        }
        {
            let mut t = self.write();
            t.set(name, spec.clone());
            t.set_error(name, None);
        }
        if let Some(old) = before.filter(|b| b.listen != spec.listen) {
            self.close_if_unused(&mut listeners, old.listen);
        }
        match self.read().status(name) {
            Some(s) => json(StatusCode::OK, &s),
            None => error(StatusCode::INTERNAL_SERVER_ERROR, "route vanished".into()),
        }
    }

    async fn remove(&self, name: &str) -> Response<Full<Bytes>> {
        let mut listeners = self.listeners.lock().await;
        let mut kept: BTreeMap<String, RouteSpec> = self.read().specs();
        let Some(old) = kept.remove(name) else {
            return error(StatusCode::NOT_FOUND, format!("no route `{name}`"));
        };
        if let Err(e) = routes::save(&self.dir, &kept) {
            return error(StatusCode::INTERNAL_SERVER_ERROR, e);
        }
        self.write().remove(name);
        self.close_if_unused(&mut listeners, old.listen);
        let mut resp = Response::new(Full::new(Bytes::new()));
        *resp.status_mut() = StatusCode::NO_CONTENT;
        resp
    }

    fn close_if_unused(
        &self,
        listeners: &mut HashMap<SocketAddr, watch::Sender<bool>>,
        addr: SocketAddr,
    ) {
        if self.read().names_on(addr).is_empty() {
            if let Some(off) = listeners.remove(&addr) {
                let _ = off.send(true);
            }
        }
    }
}

/// `%XX`-decoded (as UTF-8, lossy): the route name as the client meant it.
fn percent_decoded(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Listens on `addr` (address reuse on, so a restarted proxy gets its ports back at once).
fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    };
    socket
        .and_then(|s| {
            s.set_reuseaddr(true)?;
            s.bind(addr)?;
            s.listen(1024)
        })
        .map_err(|e| format!("listen: cannot listen on {addr}: {e}"))
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn error(status: StatusCode, message: String) -> Response<Full<Bytes>> {
    json(status, &ControlError { error: message })
}
