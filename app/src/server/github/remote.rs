//! Which GitHub repository a git remote names: `https://host/owner/name(.git)`,
//! `ssh://git@host[:port]/owner/name.git`, `git@host:owner/name.git`, `git://host/owner/name`.

/// The host whose remotes belong to the API at `base_url`: `github.com` for
/// `https://api.github.com`, else the Enterprise server's own host.
pub fn web_host(base_url: &url::Url) -> String {
    match base_url.host_str() {
        Some(h) if h.eq_ignore_ascii_case("api.github.com") => "github.com".to_owned(),
        Some(h) => h.to_ascii_lowercase(),
        None => String::new(),
    }
}

/// `(owner, name)` when `remote` is a repository on `host` (compared without case or port).
pub fn repository(remote: &str, host: &str) -> Option<(String, String)> {
    let remote = remote.trim();
    let (remote_host, path) = if let Some((_, rest)) = remote.split_once("://") {
        let (authority, path) = rest.split_once('/')?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        (authority.split(':').next()?, path)
    } else {
        // scp-like: [user@]host:owner/name
        let (authority, path) = remote.split_once(':')?;
        (
            authority.rsplit_once('@').map_or(authority, |(_, h)| h),
            path,
        )
    };
    if host.is_empty() || !remote_host.eq_ignore_ascii_case(host) {
        return None;
    }
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, name) = path.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok(owner) && ok(name)).then(|| (owner.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(o: &str, n: &str) -> Option<(String, String)> {
        Some((o.to_owned(), n.to_owned()))
    }

    #[test]
    fn every_remote_form_names_its_repository() {
        let h = "github.com";
        assert_eq!(
            repository("https://github.com/acme/widget.git", h),
            pair("acme", "widget")
        );
        assert_eq!(
            repository("https://GitHub.com/acme/widget/", h),
            pair("acme", "widget")
        );
        assert_eq!(
            repository("git@github.com:acme/widget.git", h),
            pair("acme", "widget")
        );
        assert_eq!(
            repository("ssh://git@github.com:22/acme/w.x-y_z.git", h),
            pair("acme", "w.x-y_z")
        );
        assert_eq!(
            repository("git://github.com/acme/widget", h),
            pair("acme", "widget")
        );
        assert_eq!(repository("https://gitlab.com/acme/widget.git", h), None);
        assert_eq!(repository("https://github.com/acme", h), None);
        assert_eq!(repository("https://github.com/acme/widget/tree/x", h), None);
        assert_eq!(repository("/srv/git/widget.git", h), None);
        assert_eq!(repository("https://github.com/../widget", h), None);
        // Only the authority's user part is dropped: a path with @ names no other host.
        assert_eq!(repository("https://evil.example/x@github.com/a/b", h), None);
        assert_eq!(repository("https://tok@github.com/a/b", h), pair("a", "b"));
    }

    #[test]
    fn the_api_host_maps_to_the_web_host() {
        let api = url::Url::parse("https://api.github.com").ok();
        assert_eq!(api.as_ref().map(web_host).as_deref(), Some("github.com"));
        let ghe = url::Url::parse("https://GHE.example.com/api/v3").ok();
        assert_eq!(
            ghe.as_ref().map(web_host).as_deref(),
            Some("ghe.example.com")
        );
    }
}
