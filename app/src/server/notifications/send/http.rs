//! HTTP channels. A webhook gets the notification as JSON, signed per the Standard Webhooks
//! scheme: `webhook-id` (stable across retries, so receivers can drop duplicates),
//! `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body" keyed with the secret's bytes>`. A Slack-compatible incoming webhook gets
//! `{"text": …}`. Redirects are not followed; `Retry-After` (seconds or an HTTP date) is read.

use super::{short, Message, Sent, TIMEOUT};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use sha2::Sha256;
use std::sync::OnceLock;
use std::time::Duration;

fn client() -> Option<&'static reqwest::Client> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("Optimus/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| tracing::error!(error = %e, "could not build the webhook client"))
                .ok()
        })
        .as_ref()
}

/// The `webhook-signature` value of `body` sent as `msg_id` at `timestamp` with `secret`
/// (`whsec_<base64>`); `None` when the secret is not of that form.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// POSTs a signed webhook.
pub async fn webhook(url: &str, secret: &str, m: &Message) -> Sent {
    let body = match serde_json::to_vec(&serde_json::json!({
        "type": m.kind,
        "timestamp": m.created_at,
        "data": m,
    })) {
        Ok(b) => b,
        Err(e) => return Sent::failed(None, format!("could not encode the payload: {e}")),
    };
    let id = format!("msg_{}", m.delivery_id);
    let ts = Utc::now().timestamp();
    let Some(signature) = sign(secret, &id, ts, &body) else {
        return Sent {
            permanent: true,
            ..Sent::failed(None, "the channel's signing secret is not a whsec_ secret")
        };
    };
    let Some(client) = client() else {
        return Sent::failed(None, "no HTTP client");
    };
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body);
    answer(request.send().await).await
}

/// POSTs to a Slack-compatible incoming webhook.
pub async fn slack(url: &str, m: &Message) -> Sent {
    let icon = match m.level.as_str() {
        "error" => ":red_circle:",
        "warning" => ":warning:",
        _ => ":information_source:",
    };
    let mut text = format!("{icon} *{}*", escape(&m.title));
    if !m.body.trim().is_empty() {
        text.push('\n');
        text.push_str(&escape(m.body.trim()));
    }
    let Some(client) = client() else {
        return Sent::failed(None, "no HTTP client");
    };
    let request = client.post(url).json(&serde_json::json!({ "text": text }));
    answer(request.send().await).await
}

/// Slack's three escapes.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn answer(sent: Result<reqwest::Response, reqwest::Error>) -> Sent {
    let response = match sent {
        Ok(r) => r,
        // Without the URL: it may hold a token.
        Err(e) => return Sent::failed(None, short(describe(&e))),
    };
    let status = response.status();
    let code = Some(i32::from(status.as_u16()));
    if status.is_success() {
        return Sent::ok(code);
    }
    let retry_after = retry_after(response.headers());
    let text = response.text().await.unwrap_or_default();
    let mut why = format!("answered {status}");
    if !text.trim().is_empty() {
        why.push_str(": ");
        why.push_str(text.trim());
    }
    Sent {
        retry_after,
        ..Sent::failed(code, short(why))
    }
}

fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {cause}")
    }
}

/// `Retry-After` as seconds or an HTTP date, at most a day.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs = match v.parse::<u64>() {
        Ok(s) => s,
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
            u64::try_from((at.with_timezone(&Utc) - Utc::now()).num_seconds().max(0)).ok()?
        }
    };
    Some(Duration::from_secs(secs.min(86_400)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example in the Standard Webhooks specification.
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                body
            )
            .as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("not-a-secret", "m", 1, body), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
