//! Typed JSON kept in text columns.
//!
//! A stored value that cannot be decoded (after a schema change, a rollback, or a hand edit) is
//! an error naming the table, the row and the column, logged where it is met and returned to
//! the caller, never a silent default: a service definition that cannot be read must not
//! quietly become one that runs nothing.

use serde::de::DeserializeOwned;

/// A stored JSON value that does not decode into its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table} row {id}: column `{column}` cannot be read ({reason})")]
pub struct Undecodable {
    /// The table.
    pub table: &'static str,
    /// The row's id.
    pub id: i64,
    /// The column.
    pub column: &'static str,
    /// What the decoder said.
    pub reason: String,
}

/// Decodes `text`, stored in `table`.`column` of row `id`, or fails naming them (and logs it).
pub fn decode<T: DeserializeOwned>(
    table: &'static str,
    id: i64,
    column: &'static str,
    text: &str,
) -> Result<T, Undecodable> {
    serde_json::from_str(text).map_err(|e| {
        let err = Undecodable {
            table,
            id,
            column,
            reason: e.to_string(),
        };
        tracing::error!(error = %err, "stored JSON cannot be decoded");
        err
    })
}

/// Like [`decode`], for a nullable column: a NULL is `None`, never an error.
pub fn decode_optional<T: DeserializeOwned>(
    table: &'static str,
    id: i64,
    column: &'static str,
    text: Option<&str>,
) -> Result<Option<T>, Undecodable> {
    text.map(|t| decode(table, id, column, t)).transpose()
}

/// Reads a column stored in a form of its own (not JSON) with `read`, or fails naming the row
/// with what `read` said (and logs it).
pub fn parse<T>(
    table: &'static str,
    id: i64,
    column: &'static str,
    text: &str,
    read: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, Undecodable> {
    read(text).map_err(|reason| {
        let err = Undecodable {
            table,
            id,
            column,
            reason,
        };
        tracing::error!(error = %err, "stored value cannot be decoded");
        err
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undecodable_row_names_its_table_id_and_column() {
        let err = decode::<Vec<u32>>("services", 7, "definition", "{\"command\":")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("services row 7: column `definition` cannot be read"),
            "{err}"
        );
        assert_eq!(
            decode::<Vec<u32>>("t", 1, "c", "[1,2]").ok(),
            Some(vec![1, 2])
        );
    }

    #[test]
    fn a_null_column_is_none_and_a_bad_one_still_names_the_row() {
        assert_eq!(decode_optional::<u32>("t", 1, "c", None), Ok(None));
        assert_eq!(decode_optional::<u32>("t", 1, "c", Some("3")), Ok(Some(3)));
        let err = decode_optional::<u32>("projects", 9, "git", Some("{"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("projects row 9: column `git`"), "{err}");
    }

    #[test]
    fn a_column_in_a_form_of_its_own_fails_with_what_its_reader_said() {
        let read = |t: &str| t.parse::<u8>().map_err(|_| format!("`{t}` is not a byte"));
        assert_eq!(parse("t", 1, "c", "7", read), Ok(7));
        assert_eq!(
            parse("projects", 2, "stacks", "zig", read)
                .err()
                .map(|e| e.to_string()),
            Some("projects row 2: column `stacks` cannot be read (`zig` is not a byte)".into())
        );
    }
}
