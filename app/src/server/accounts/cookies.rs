//! The session cookies: `HttpOnly; SameSite=Strict`, `Secure` when configured.

use http::header::{HeaderMap, COOKIE};

/// Holds the access token.
pub const ACCESS_COOKIE: &str = "optimus_access";
/// Holds the refresh token.
pub const REFRESH_COOKIE: &str = "optimus_refresh";
/// The path the refresh cookie is scoped to: the whole site, so a server-rendered page can renew
/// an expired access token before it renders (it is still `HttpOnly` and `SameSite=Strict`).
pub const REFRESH_PATH: &str = "/";

/// A `Set-Cookie` value.
pub fn set(name: &str, value: &str, path: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
    )
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(name: &str, path: &str, secure: bool) -> String {
    set(name, "", path, 0, secure)
}

/// Reads a cookie from the request headers.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn cookies_are_http_only_and_strict() {
        let c = set(ACCESS_COOKIE, "abc", "/", 900, true);
        assert!(c.contains("HttpOnly"));
        assert!(c.contains("SameSite=Strict"));
        assert!(c.contains("Secure"));
    }

    #[test]
    fn reads_one_cookie_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; optimus_access=tok; b=2"),
        );
        assert_eq!(get(&h, ACCESS_COOKIE).as_deref(), Some("tok"));
        assert_eq!(get(&h, "missing"), None);
    }
}
