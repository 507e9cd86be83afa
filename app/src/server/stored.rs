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
}
