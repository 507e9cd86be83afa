//! Parse-don't-validate newtypes for user input. The browser form and the server apply the same
//! rule by calling the same `parse`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A name as services, pipelines and steps take it: 1 to `max` of `a-z 0-9 - _`, starting with a
/// letter or digit.
pub fn is_slug(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// A valid username: 3–32 characters, lowercase letters, digits, `.`, `_` or `-`, starting with a
/// letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Checks and normalises (trims, lowercases) a username.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        if s.chars().count() < 3 {
            return Err("must be at least 3 characters".into());
        }
        if s.chars().count() > 32 {
            return Err("must be at most 32 characters".into());
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("must start with a letter".into());
        }
        if let Some(bad) = s.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(format!(
                "may only contain lowercase letters, digits, `.`, `_` and `-` (found `{bad}`)"
            ));
        }
        Ok(Self(s))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the minimum rules: 12–128 characters, not one repeated character, and
/// not the username. Never serialised: it only flows inward.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The shortest password accepted.
    pub const MIN_LEN: usize = 12;
    /// The longest password accepted (argon2 input is bounded to keep hashing cheap to refuse).
    pub const MAX_LEN: usize = 128;

    /// Checks a new password for `username`.
    pub fn parse(raw: &str, username: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(format!("must be at least {} characters", Self::MIN_LEN));
        }
        if len > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let mut chars = raw.chars();
        if let Some(first) = chars.next() {
            if chars.all(|c| c == first) {
                return Err("must not be one character repeated".into());
            }
        }
        if !username.is_empty() && raw.trim().eq_ignore_ascii_case(username.trim()) {
            return Err("must not be the same as the username".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A token's display name: 1–64 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenName(String);

impl TokenName {
    /// Checks a token name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.chars().count() > 64 {
            return Err("must be at most 64 characters".into());
        }
        if s.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TokenName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TokenName> for String {
    fn from(value: TokenName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_lowercased() {
        assert_eq!(Username::parse("  Alice ").map(|u| u.0), Ok("alice".into()));
    }

    #[test]
    fn rejects_a_username_that_is_too_short_or_starts_with_a_digit() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("1abc").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn rejects_a_username_with_spaces_and_names_the_character() {
        let err = Username::parse("al ice").err().unwrap_or_default();
        assert!(err.contains("` `"), "{err}");
    }

    #[test]
    fn rejects_short_repeated_or_username_passwords() {
        assert!(Password::parse("short", "bob").is_err());
        assert!(Password::parse("aaaaaaaaaaaaaaaa", "bob").is_err());
        assert!(Password::parse("administrator", "Administrator").is_err());
        assert!(Password::parse("correct horse battery", "bob").is_ok());
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("correct horse battery", "bob").ok();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn token_names_must_be_short_and_printable() {
        assert!(TokenName::parse("  ").is_err());
        assert!(TokenName::parse("ci\u{7}").is_err());
        assert!(TokenName::parse("deploy bot").is_ok());
    }
}
