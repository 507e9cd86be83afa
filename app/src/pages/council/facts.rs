//! The ask form's facts: `key = value` lines, typed.

use std::collections::BTreeMap;

/// `key = value` lines into facts: numbers and true/false are typed, the rest is text.
pub fn parse_facts(text: &str) -> Result<BTreeMap<String, serde_json::Value>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) = line
            .split_once('=')
            .or_else(|| line.split_once(':'))
            .ok_or_else(|| format!("`{line}`: write key = value"))?;
        let key = k.trim().to_lowercase().replace([' ', '-'], "_");
        let v = v.trim();
        let value = if let Ok(n) = v.parse::<i64>() {
            serde_json::Value::from(n)
        } else if let Ok(f) = v.parse::<f64>() {
            serde_json::Value::from(f)
        } else if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
            serde_json::Value::from(v.eq_ignore_ascii_case("true"))
        } else {
            serde_json::Value::from(v.to_owned())
        };
        out.insert(key, value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_typed_from_key_value_lines() {
        let f =
            parse_facts("tests = failing\nDeadline days: 2\nschema_change = true\nratio = 0.5\n");
        assert!(f.is_ok(), "{f:?}");
        let Ok(f) = f else { return };
        assert_eq!(f["tests"], "failing");
        assert_eq!(f["deadline_days"], 2);
        assert_eq!(f["schema_change"], true);
        assert_eq!(f["ratio"], 0.5);
        assert!(parse_facts("no value here").is_err());
    }
}
