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
/// Where the shim says that the log cannot be written ([`Trouble`]).
pub const STATUS: &str = "log.json";
/// The size [`STATUS`] is created with and always keeps, so that rewriting it in place needs no
/// free space on a full disk.
pub const STATUS_BYTES: usize = 1024;

/// Lines the shim could not write to the run's log (the server reads it as its `LogTrouble`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Trouble {
    /// Lines lost so far.
    pub lost_lines: u64,
    /// Their size in bytes.
    pub lost_bytes: u64,
    /// The write error, while writing fails; `None` once lines are written again.
    pub error: Option<String>,
    /// When writing first failed.
    pub since: Option<DateTime<Utc>>,
}

impl Trouble {
    /// The status file's content: the JSON padded with spaces to [`STATUS_BYTES`] (the error is
    /// shortened to fit).
    pub fn to_status(&self) -> Vec<u8> {
        let mut shown = self.clone();
        if let Some(e) = shown.error.as_mut() {
            if e.len() > 400 {
                let mut cut = 400;
                while !e.is_char_boundary(cut) {
                    cut -= 1;
                }
                e.truncate(cut);
            }
        }
        let mut out = serde_json::to_vec(&shown).unwrap_or_else(|_| b"{}".to_vec());
        out.resize(STATUS_BYTES.max(out.len()), b' ');
        out
    }
}

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
    fn the_status_keeps_its_size_and_reads_back() {
        let t = Trouble {
            lost_lines: 3,
            lost_bytes: 120,
            error: Some("No space left on device (os error 28) ".repeat(40)),
            since: Some(Utc::now()),
        };
        let status = t.to_status();
        assert_eq!(status.len(), STATUS_BYTES);
        let back = serde_json::from_slice::<Trouble>(&status).ok();
        assert_eq!(
            back.as_ref().map(|b| b.lost_lines),
            Some(3),
            "valid JSON, padded"
        );
        assert!(back.and_then(|b| b.error).is_some_and(|e| e.len() <= 400));
        assert_eq!(Trouble::default().to_status().len(), STATUS_BYTES);
    }

    #[test]
    fn secrets_are_masked_but_short_values_are_not() {
        let s = vec!["hunter2-secret".to_owned(), "ab".to_owned()];
        assert_eq!(redact("token=hunter2-secret ab", &s), "token=•••••• ab");
    }
}
