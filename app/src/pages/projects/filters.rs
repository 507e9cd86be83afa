//! The project list's filters and order, and their one encoding, shared by the page URL and the
//! export link.

use crate::models::catalog::ProjectQuery;
use leptos_router::params::ParamsMap;

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The list filters and order, as kept in the URL so a view can be shared and the back button
/// works.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Search words.
    pub q: String,
    /// Stack id.
    pub stack: String,
    /// Git state.
    pub git: String,
    /// Tag.
    pub tag: String,
    /// `present` or `missing`.
    pub status: String,
    /// Favorites only.
    pub favorite: bool,
    /// Order (`name` when empty).
    pub sort: String,
}

impl Filters {
    /// The filters a page URL's query holds (`favorite` as `1` or `true`).
    pub fn from_query(q: &ParamsMap) -> Self {
        let get = |k: &str| q.get(k).unwrap_or_default();
        Filters {
            q: get("q"),
            stack: get("stack"),
            git: get("git"),
            tag: get("tag"),
            status: get("status"),
            favorite: matches!(get("favorite").as_str(), "1" | "true"),
            sort: get("sort"),
        }
    }

    /// The URL of the project list with these filters.
    pub fn url(&self) -> String {
        let query = self.query_string();
        if query.is_empty() {
            "/projects".into()
        } else {
            format!("/projects?{query}")
        }
    }

    /// The download link of the list with these filters (every page), in `format`.
    pub fn export_url(&self, format: &str) -> String {
        let query = self.query_string();
        if query.is_empty() {
            format!("/api/v1/projects/export?format={format}")
        } else {
            format!("/api/v1/projects/export?format={format}&{query}")
        }
    }

    /// The one encoding of the filters, shared by the page URL and the export link.
    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("q", &self.q),
            ("stack", &self.stack),
            ("git", &self.git),
            ("tag", &self.tag),
            ("status", &self.status),
            ("sort", &self.sort),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", encode(value)));
            }
        }
        if self.favorite {
            parts.push("favorite=1".into());
        }
        parts.join("&")
    }

    /// The API query for one page.
    pub(super) fn query(&self, cursor: Option<String>, limit: u32) -> ProjectQuery {
        let some = |v: &String| (!v.is_empty()).then(|| v.clone());
        ProjectQuery {
            search: some(&self.q),
            stack: some(&self.stack),
            git: some(&self.git),
            tag: some(&self.tag),
            status: some(&self.status),
            favorite: self.favorite.then_some(true),
            sort: some(&self.sort),
            cursor,
            limit: Some(limit),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_the_url() {
        assert_eq!(Filters::default().url(), "/projects");
        let f = Filters {
            q: "my app".into(),
            stack: "rust".into(),
            ..Default::default()
        };
        assert_eq!(f.url(), "/projects?q=my%20app&stack=rust");
        let f = Filters {
            q: "a&b".into(),
            git: "dirty".into(),
            favorite: true,
            sort: "last_commit".into(),
            ..Default::default()
        };
        assert_eq!(
            f.url(),
            "/projects?q=a%26b&git=dirty&sort=last_commit&favorite=1"
        );
        assert_eq!(
            f.export_url("csv"),
            "/api/v1/projects/export?format=csv&q=a%26b&git=dirty&sort=last_commit&favorite=1"
        );
        assert_eq!(
            Filters::default().export_url("json"),
            "/api/v1/projects/export?format=json"
        );
        let q = f.query(Some("c9".into()), 100);
        assert_eq!(q.favorite, Some(true));
        assert_eq!(q.stack, None);
        assert_eq!(q.cursor.as_deref(), Some("c9"));
    }

    #[test]
    fn a_page_url_reads_back_as_the_same_filters() {
        let mut q = ParamsMap::new();
        q.insert("q", "my app".into());
        q.insert("favorite", "true".into());
        q.insert("sort", "status".into());
        assert_eq!(
            Filters::from_query(&q),
            Filters {
                q: "my app".into(),
                favorite: true,
                sort: "status".into(),
                ..Default::default()
            }
        );
        assert_eq!(Filters::from_query(&ParamsMap::new()), Filters::default());
    }
}
