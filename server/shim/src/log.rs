//! The run-log line format the shim writes: `seq<TAB>time<TAB>o|e<TAB>text`, with progress
//! lines collapsed, long lines cut and known secrets masked.

use chrono::{DateTime, SecondsFormat, Utc};

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// The current segment.
pub const CURRENT: &str = "output.log";
/// The previous segment.
pub const PREVIOUS: &str = "output.log.1";
/// Lines longer than this are cut (and marked) so one runaway line cannot fill a segment.
pub const MAX_LINE: usize = 16 * 1024;

/// Masks every known secret value in `text`. Values shorter than 4 characters are not masked:
/// they would blank out ordinary words.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if s.chars().count() >= 4 && out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "••••••");
        }
    }
    out
}

/// Turns raw output bytes of one line into display text: a carriage-return progress line keeps
/// only what was drawn last, the line ending is dropped, invalid UTF-8 is replaced.
pub fn clean_line(raw: &[u8]) -> String {
    let mut raw = raw;
    while let Some((&last, rest)) = raw.split_last() {
        if last == b'\n' || last == b'\r' {
            raw = rest;
        } else {
            break;
        }
    }
    let shown = match raw.iter().rposition(|&b| b == b'\r') {
        Some(i) => &raw[i + 1..],
        None => raw,
    };
    let mut text = String::from_utf8_lossy(shown).into_owned();
    if text.len() > MAX_LINE {
        let mut cut = MAX_LINE;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" …[line cut]");
    }
    text
}

/// One stored line, formatted.
pub fn format_line(seq: u64, at: DateTime<Utc>, stream: Stream, text: &str) -> String {
    let s = match stream {
        Stream::Stdout => 'o',
        Stream::Stderr => 'e',
    };
    format!(
        "{seq}\t{}\t{s}\t{text}\n",
        at.to_rfc3339_opts(SecondsFormat::Millis, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_collapse_to_what_was_drawn_last() {
        assert_eq!(clean_line(b"10%\r50%\r100%\n"), "100%");
        assert_eq!(clean_line(b"plain\r\n"), "plain");
        assert_eq!(clean_line(b"\xff ok\n"), "\u{fffd} ok");
    }

    #[test]
    fn secrets_are_masked_but_short_values_are_not() {
        let s = vec!["hunter2-secret".to_owned(), "ab".to_owned()];
        assert_eq!(redact("token=hunter2-secret ab", &s), "token=•••••• ab");
    }
}
