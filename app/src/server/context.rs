//! What a server function knows about its request: the state and the caller's request metadata.

use super::state::AppState;
use crate::error::AppError;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use std::net::{IpAddr, SocketAddr};

/// Request metadata a service needs: headers (for credentials) and the client's address.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    /// The request headers.
    pub headers: HeaderMap,
    /// The client's address (from the socket, or `X-Forwarded-For` behind a trusted proxy).
    pub client_ip: Option<IpAddr>,
}

impl RequestCtx {
    /// Builds the context from headers and the peer address.
    pub fn new(headers: HeaderMap, peer: Option<SocketAddr>, trust_forwarded_for: bool) -> Self {
        Self {
            client_ip: client_ip(&headers, peer, trust_forwarded_for),
            headers,
        }
    }

    /// The client address as text, for audit entries.
    pub fn client_addr(&self) -> Option<String> {
        self.client_ip.map(|ip| ip.to_string())
    }
}

/// The client's address: the socket peer, or the first `X-Forwarded-For` entry behind a trusted
/// proxy.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    let forwarded = trust_forwarded_for
        .then(|| headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    forwarded.or(peer.map(|p| p.ip()))
}

/// The state and request context of the server function being run; an error, never a panic,
/// when called outside a request.
pub fn api_context() -> Result<(AppState, RequestCtx), AppError> {
    let state = leptos::prelude::use_context::<AppState>().ok_or(AppError::Internal)?;
    let parts = leptos::prelude::use_context::<http::request::Parts>().ok_or(AppError::Internal)?;
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let ctx = RequestCtx::new(parts.headers, peer, state.settings.trust_forwarded_for);
    Ok((state, ctx))
}

/// Adds a response header (e.g. `Set-Cookie`) from inside a server function.
pub fn append_response_header(name: HeaderName, value: HeaderValue) {
    if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        options.append_header(name, value);
    }
}

/// Sets cookies on the response of the running server function.
pub fn set_cookies(cookies: &[String]) {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            append_response_header(http::header::SET_COOKIE, value);
        }
    }
}
