//! The browser's end of `/api/v1/events`: one WebSocket per page that wants live updates,
//! closed when the page goes away. Does nothing on the server.

use crate::models::events::ServerMessage;

/// Opens the event stream for `topics` (authenticated by the session cookie) and calls
/// `on_message` for each message; the stream closes when the calling reactive scope is cleaned up.
pub fn subscribe(topics: &[&str], on_message: impl Fn(ServerMessage) + 'static) {
    imp::subscribe(topics, on_message);
}

#[cfg(feature = "hydrate")]
mod imp {
    use super::ServerMessage;
    use leptos::prelude::on_cleanup;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::prelude::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{MessageEvent, WebSocket};

    pub fn subscribe(topics: &[&str], on_message: impl Fn(ServerMessage) + 'static) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") {
            "wss"
        } else {
            "ws"
        };
        let Ok(host) = location.host() else { return };
        let Ok(ws) = WebSocket::new(&format!("{scheme}://{host}/api/v1/events")) else {
            return;
        };
        let subscribe = serde_json::json!({"type": "subscribe", "topics": topics}).to_string();
        let opened = {
            let ws = ws.clone();
            Closure::<dyn FnMut()>::new(move || {
                let _ = ws.send_with_str(&subscribe);
            })
        };
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                if let Ok(msg) = serde_json::from_str::<ServerMessage>(&text) {
                    on_message(msg);
                }
            }
        });
        ws.set_onopen(Some(opened.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        let held = SendWrapper::new((ws, opened, message));
        on_cleanup(move || {
            let (ws, _opened, _message) = held.take();
            ws.set_onopen(None);
            ws.set_onmessage(None);
            let _ = ws.close();
        });
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::ServerMessage;

    pub fn subscribe(_topics: &[&str], _on_message: impl Fn(ServerMessage) + 'static) {}
}
