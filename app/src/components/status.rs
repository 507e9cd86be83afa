//! Sets the HTTP status of a server-rendered page (404 and error pages).

/// Sets the response status while rendering on the server; does nothing in the browser.
pub fn set_http_status(code: u16) {
    imp::set(code);
}

#[cfg(feature = "ssr")]
mod imp {
    pub fn set(code: u16) {
        if let (Some(options), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(code),
        ) {
            options.set_status(status);
        }
    }
}

#[cfg(not(feature = "ssr"))]
mod imp {
    pub fn set(_code: u16) {}
}
