//! GitHub's REST API over Optimus's `reqwest`: every GET is conditional (the last answer's ETag
//! is sent as `If-None-Match`, and a 304, which costs no quota, reuses the kept answer), the
//! rate-limit headers are recorded, and reaching the limit pauses every instance until GitHub's
//! reset time (or `Retry-After`). Only what Optimus reads of an answer is kept: `trim` cuts it
//! down before it is stored.

use super::entities::response;
use super::repo;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::header::{HeaderMap, ETAG, IF_NONE_MATCH, LINK, RETRY_AFTER};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// Longest wait for one answer.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// The largest answer read.
const MAX_BODY: usize = 8 << 20;
/// How long to wait after a secondary rate limit without `Retry-After` (GitHub asks for a
/// minute at least).
const SECONDARY_PAUSE_SECS: i64 = 60;

fn http() -> Option<&'static reqwest::Client> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(std::time::Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("Optimus/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| tracing::error!(error = %e, "could not build the GitHub client"))
                .ok()
        })
        .as_ref()
}

/// Why a request gave nothing.
#[derive(Debug)]
pub enum Failure {
    /// The rate limit was reached: nothing is asked before this.
    Paused(DateTime<Utc>),
    /// 404, or 422 (a commit GitHub does not have).
    NotFound,
    /// Another answer: its status and GitHub's message.
    Status(u16, String),
    /// No answer.
    Transport(String),
    /// The database failed.
    Db(DbErr),
}

impl From<DbErr> for Failure {
    fn from(e: DbErr) -> Self {
        Self::Db(e)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Paused(until) => write!(
                f,
                "GitHub's rate limit was reached; asking again after {}",
                until.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            Self::NotFound => f.write_str("not found on GitHub (or the token cannot read it)"),
            Self::Status(401, _) => f.write_str("GitHub refused the token (401)"),
            Self::Status(s, m) => write!(f, "GitHub answered {s}: {m}"),
            Self::Transport(e) => write!(f, "could not reach GitHub: {e}"),
            Self::Db(e) => write!(f, "database: {e}"),
        }
    }
}

/// One page of an answer (trimmed) and the next page's URL.
pub struct Page {
    /// What was kept of the body.
    pub body: Value,
    /// `Link: <…>; rel="next"`, when on the same server.
    pub next: Option<String>,
}

/// A client for one refresh: counts its requests and 304s.
pub struct Client<'a, C: ConnectionTrait> {
    db: &'a C,
    base: url::Url,
    token: String,
    paused: Option<DateTime<Utc>>,
    /// Requests made.
    pub requests: u32,
    /// Of those, answered 304.
    pub not_modified: u32,
}

impl<'a, C: ConnectionTrait> Client<'a, C> {
    /// A client for the API at `base` with `token`; `paused` is the pause already recorded.
    pub fn new(db: &'a C, base: url::Url, token: String, paused: Option<DateTime<Utc>>) -> Self {
        Self {
            db,
            base,
            token,
            paused: paused.filter(|p| *p > Utc::now()),
            requests: 0,
            not_modified: 0,
        }
    }

    /// The absolute URL of an API path (`/repos/…`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    fn same_server(&self, url: &str) -> bool {
        url::Url::parse(url).is_ok_and(|u| {
            u.scheme() == self.base.scheme()
                && u.host_str() == self.base.host_str()
                && u.port_or_known_default() == self.base.port_or_known_default()
        })
    }

    /// GETs `url` (absolute, on this server), conditionally; `trim` keeps what is read of a
    /// fresh answer.
    pub async fn get(&mut self, url: &str, trim: fn(Value) -> Value) -> Result<Page, Failure> {
        if let Some(until) = self.paused {
            if until > Utc::now() {
                return Err(Failure::Paused(until));
            }
        }
        if !self.same_server(url) {
            return Err(Failure::Status(0, format!("{url} is not on {}", self.base)));
        }
        let Some(http) = http() else {
            return Err(Failure::Transport("no HTTP client".into()));
        };
        let key = format!("{:x}", Sha256::digest(url.as_bytes()));
        let kept = repo::response(self.db, &key).await?;
        let mut req = http
            .get(url)
            .bearer_auth(&self.token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(k) = &kept {
            req = req.header(IF_NONE_MATCH, &k.etag);
        }
        self.requests += 1;
        let resp = req
            .send()
            .await
            .map_err(|e| Failure::Transport(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let now = Utc::now();
        self.record_rate(&headers, now).await?;
        if status == 304 {
            if let Some(k) = kept {
                self.not_modified += 1;
                let body = serde_json::from_str(&k.body).unwrap_or(Value::Null);
                return Ok(Page {
                    body,
                    next: k.next_url,
                });
            }
        }
        let bytes = read_capped(resp).await?;
        match status {
            200 => {
                let raw: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| Failure::Status(200, format!("not JSON: {e}")))?;
                let body = trim(raw);
                let next = next_link(&headers).filter(|n| self.same_server(n));
                if let Some(etag) = headers.get(ETAG).and_then(|v| v.to_str().ok()) {
                    if etag.len() <= 300 {
                        repo::keep_response(
                            self.db,
                            response::Model {
                                key,
                                url: url.to_owned(),
                                etag: etag.to_owned(),
                                body: body.to_string(),
                                next_url: next.clone(),
                                fetched_at: now,
                            },
                        )
                        .await?;
                    }
                }
                Ok(Page { body, next })
            }
            404 | 422 => Err(Failure::NotFound),
            403 | 429 => {
                let message = message(&bytes);
                match self.limited(&headers, status, &message, now) {
                    Some(until) => {
                        repo::pause(self.db, until).await?;
                        self.paused = Some(until);
                        Err(Failure::Paused(until))
                    }
                    None => Err(Failure::Status(status, message)),
                }
            }
            s => Err(Failure::Status(s, message(&bytes))),
        }
    }

    /// Records `x-ratelimit-*`; when nothing is left, pauses until the reset.
    async fn record_rate(&mut self, h: &HeaderMap, now: DateTime<Utc>) -> Result<(), DbErr> {
        let (Some(remaining), Some(limit)) = (
            number(h, "x-ratelimit-remaining"),
            number(h, "x-ratelimit-limit"),
        ) else {
            return Ok(());
        };
        let reset = reset_at(h);
        repo::set_rate(
            self.db,
            i32::try_from(remaining).unwrap_or(i32::MAX),
            i32::try_from(limit).unwrap_or(i32::MAX),
            reset,
        )
        .await?;
        if remaining == 0 {
            let until = reset
                .filter(|r| *r > now)
                .unwrap_or(now + Duration::seconds(SECONDARY_PAUSE_SECS));
            repo::pause(self.db, until).await?;
            self.paused = Some(until);
        }
        Ok(())
    }

    /// When a 403 or 429 is a rate limit: until when to wait.
    fn limited(
        &self,
        h: &HeaderMap,
        status: u16,
        message: &str,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if let Some(secs) = number(h, RETRY_AFTER.as_str()) {
            return Some(
                now + Duration::seconds(i64::try_from(secs.min(86_400)).unwrap_or(86_400)),
            );
        }
        if number(h, "x-ratelimit-remaining") == Some(0) {
            return Some(
                reset_at(h)
                    .filter(|r| *r > now)
                    .unwrap_or(now + Duration::seconds(SECONDARY_PAUSE_SECS)),
            );
        }
        (status == 429 || message.to_ascii_lowercase().contains("rate limit"))
            .then(|| now + Duration::seconds(SECONDARY_PAUSE_SECS))
    }
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| Failure::Transport(e.without_url().to_string()))?
    {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(Failure::Status(0, "the answer is larger than 8 MiB".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn number(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn reset_at(h: &HeaderMap) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(number(h, "x-ratelimit-reset")?).ok()?;
    Utc.timestamp_opt(secs, 0).single()
}

fn message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect())
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(h: &HeaderMap) -> Option<String> {
    let link = h.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_next_link_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            HeaderValue::from_static(
                "<https://api.github.com/repos/a/b/pulls?page=1>; rel=\"prev\", \
                 <https://api.github.com/repos/a/b/pulls?page=3>; rel=\"next\", \
                 <https://api.github.com/repos/a/b/pulls?page=9>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repos/a/b/pulls?page=3")
        );
        h.insert(
            LINK,
            HeaderValue::from_static("<https://x/y?page=1>; rel=\"first\""),
        );
        assert_eq!(next_link(&h), None);
    }
}
