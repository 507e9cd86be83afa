//! Cursor paging shared by every list: opaque cursors, page sizes, and `limit + 1` reads.

use crate::error::AppError;
use crate::models::page::{Page, PageRequest};

/// Reads a page cursor (an opaque id) or fails on the `cursor` field.
pub(crate) fn parse_cursor(cursor: Option<&str>) -> Result<Option<i64>, AppError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => c
            .strip_prefix('c')
            .and_then(|n| n.parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| AppError::validation("cursor", "is not a cursor returned by this list")),
    }
}

/// The cursor that continues after the item with `id`.
pub(crate) fn make_cursor(id: i64) -> String {
    format!("c{id}")
}

/// Turns `limit + 1` fetched rows into a page with a cursor when more remain.
pub(crate) fn into_page<M, T>(
    mut rows: Vec<M>,
    limit: u32,
    id: impl Fn(&M) -> i64,
    map: impl Fn(M) -> T,
) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(|r| make_cursor(id(r)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(map).collect(),
        next_cursor,
    }
}

/// The checked page size from a request.
pub(crate) fn page_limit(req: &PageRequest) -> Result<u32, AppError> {
    req.limit().map_err(|m| AppError::validation("limit", m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_a_400_on_cursor() {
        assert_eq!(parse_cursor(Some(&make_cursor(42))), Ok(Some(42)));
        assert_eq!(parse_cursor(None), Ok(None));
        assert!(
            matches!(parse_cursor(Some("zzz")), Err(AppError::Validation { field, .. }) if field == "cursor")
        );
    }

    #[test]
    fn a_full_page_carries_a_cursor_and_the_last_does_not() {
        let p = into_page(vec![1, 2, 3], 2, |x| *x, |x| x);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next_cursor.as_deref(), Some("c2"));
        let p = into_page(vec![1, 2], 2, |x| *x, |x| x);
        assert_eq!(p.next_cursor, None);
    }
}
