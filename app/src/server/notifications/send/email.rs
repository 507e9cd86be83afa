//! The email channel: one plain-text message per delivery to every recipient, over SMTP with
//! STARTTLS (587), implicit TLS (465) or, to a loopback host only, plain (25). Certificates are
//! checked against the web's roots.

use super::{short, Message, Sent, TIMEOUT};
use crate::models::notifications::ChannelConfig;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// The port a security mode uses unless one is given.
pub fn default_port(security: &str) -> u16 {
    match security {
        "tls" => 465,
        "none" => 25,
        _ => 587,
    }
}

/// Sends `m` as an email.
pub async fn send(config: &ChannelConfig, m: &Message) -> Sent {
    let ChannelConfig::Email {
        host,
        port,
        security,
        username,
        password,
        from,
        to,
    } = config
    else {
        return Sent::failed(None, "not an email channel");
    };
    let security = security.as_deref().unwrap_or("starttls");
    let port = port.unwrap_or_else(|| default_port(security));
    let mail = match message(from, to, m) {
        Ok(mail) => mail,
        Err(why) => {
            return Sent {
                permanent: true,
                ..Sent::failed(None, why)
            }
        }
    };
    let builder = match security {
        "none" => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            host,
        )),
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
    };
    let mut builder = match builder {
        Ok(b) => b.port(port).timeout(Some(TIMEOUT)),
        Err(e) => return Sent::failed(None, short(format!("cannot reach {host}: {e}"))),
    };
    if let (Some(u), Some(p)) = (username, password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    match builder.build().send(mail).await {
        Ok(reply) => Sent::ok(reply.code().to_string().parse().ok()),
        Err(e) => Sent {
            permanent: e.is_permanent(),
            ..Sent::failed(
                e.status().and_then(|c| c.to_string().parse().ok()),
                short(format!("{host}:{port}: {e}")),
            )
        },
    }
}

/// The message: `[Optimus] <title>`, the body, and where it came from.
fn message(from: &str, to: &[String], m: &Message) -> Result<lettre::Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("the sender `{from}` is not an address: {e}"))?;
    let mut b = lettre::Message::builder()
        .from(from)
        .subject(format!("[Optimus] {}", m.title))
        .header(ContentType::TEXT_PLAIN);
    for t in to {
        b = b.to(t
            .parse()
            .map_err(|e| format!("the recipient `{t}` is not an address: {e}"))?);
    }
    let mut text = format!("{}\n\n", m.title);
    if !m.body.trim().is_empty() {
        text.push_str(m.body.trim());
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "Level: {}\nKind: {}\nAt: {}\n",
        m.level,
        m.kind,
        m.created_at.to_rfc3339()
    ));
    if let Some(p) = m.project_id {
        text.push_str(&format!("Project: {p}\n"));
    }
    text.push_str(&format!("Delivery: msg_{}\n", m.delivery_id));
    b.body(text)
        .map_err(|e| format!("could not build the message: {e}"))
}
