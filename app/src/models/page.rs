//! Cursor pagination shared by every list endpoint.

use serde::{Deserialize, Serialize};

/// Asks for one page of a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PageRequest {
    /// The `next_cursor` of the previous page; absent for the first page.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^ *(c-?[0-9]{1,18})? *$"))]
    pub cursor: Option<String>,
    /// How many items at most (1–200, default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
}

impl PageRequest {
    /// The default page size.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The largest page size.
    pub const MAX_LIMIT: u32 = 200;

    /// The page size asked for, checked.
    pub fn limit(&self) -> Result<u32, String> {
        match self.limit {
            None => Ok(Self::DEFAULT_LIMIT),
            Some(n) if (1..=Self::MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(format!(
                "must be between 1 and {} (got {n})",
                Self::MAX_LIMIT
            )),
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items, in the list's stable order.
    // Inlined: utoipa collects a generic parameter's dependencies but not the parameter itself,
    // so a reference to `T` would dangle wherever no other endpoint names `T`.
    #[cfg_attr(feature = "ssr", schema(inline))]
    pub items: Vec<T>,
    /// Pass this as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_defaults_and_is_bounded() {
        assert_eq!(PageRequest::default().limit(), Ok(50));
        assert!(PageRequest {
            cursor: None,
            limit: Some(0)
        }
        .limit()
        .is_err());
        assert!(PageRequest {
            cursor: None,
            limit: Some(201)
        }
        .limit()
        .is_err());
    }
}
