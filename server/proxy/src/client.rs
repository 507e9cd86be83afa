//! Talking to a running proxy over its control socket (see [`crate::control`]).

use crate::{control_socket, ControlError, RouteSpec, RouteStatus, Status};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::path::Path;
use std::time::Duration;
use tokio::net::UnixStream;

/// How long one control call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a control call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No proxy answers on the socket (not started, or stopped).
    NotRunning(String),
    /// The proxy refused the call: 400 (a rule broken), 409 (a clash, a busy port), 404.
    Refused { status: u16, message: String },
    /// The call broke off or the answer made no sense.
    Broken(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NotRunning(e) => write!(f, "optimus-proxy is not running: {e}"),
            Error::Refused { message, .. } => write!(f, "optimus-proxy refused: {message}"),
            Error::Broken(e) => write!(f, "optimus-proxy did not answer properly: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// The proxy's routes and counters.
pub async fn status(dir: &Path) -> Result<Status, Error> {
    let body = call(dir, Method::GET, "/v1/status", None).await?;
    parse(&body)
}

/// Route `name`, or none.
pub async fn route(dir: &Path, name: &str) -> Result<Option<RouteStatus>, Error> {
    match call(dir, Method::GET, &route_path(name), None).await {
        Ok(body) => parse(&body).map(Some),
        Err(Error::Refused { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Sets route `name` (switching its target at once); the route as the proxy now holds it.
pub async fn set_route(dir: &Path, name: &str, spec: &RouteSpec) -> Result<RouteStatus, Error> {
    let body = serde_json::to_vec(spec).map_err(|e| Error::Broken(e.to_string()))?;
    let answer = call(dir, Method::PUT, &route_path(name), Some(body)).await?;
    parse(&answer)
}

/// Removes route `name`; whether it was there.
pub async fn remove_route(dir: &Path, name: &str) -> Result<bool, Error> {
    match call(dir, Method::DELETE, &route_path(name), None).await {
        Ok(_) => Ok(true),
        Err(Error::Refused { status: 404, .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `/v1/routes/<name>`, the name percent-encoded (the proxy judges it, not the URI parser).
fn route_path(name: &str) -> String {
    let mut path = String::from("/v1/routes/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            path.push(char::from(b));
        } else {
            path.push_str(&format!("%{b:02X}"));
        }
    }
    path
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Broken(e.to_string()))
}

async fn call(
    dir: &Path,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<Bytes, Error> {
    match tokio::time::timeout(CALL_TIMEOUT, call_once(dir, method, path, body)).await {
        Ok(r) => r,
        Err(_) => Err(Error::Broken(format!(
            "no answer within {}s",
            CALL_TIMEOUT.as_secs()
        ))),
    }
}

async fn call_once(
    dir: &Path,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<Bytes, Error> {
    let socket = control_socket(dir);
    let stream = UnixStream::connect(&socket)
        .await
        .map_err(|e| Error::NotRunning(format!("{}: {e}", socket.display())))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Error::Broken(e.to_string()))?;
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, "optimus-proxy")
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| Error::Broken(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| Error::Broken(e.to_string()))?;
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| Error::Broken(e.to_string()))?
        .to_bytes();
    if status.is_success() {
        return Ok(bytes);
    }
    let message = serde_json::from_slice::<ControlError>(&bytes)
        .map(|e| e.error)
        .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
    Err(if status == StatusCode::INTERNAL_SERVER_ERROR {
        Error::Broken(message)
    } else {
        Error::Refused {
            status: status.as_u16(),
            message,
        }
    })
}
