//! The run log: one file per run segment, one line per output line:
//! `seq<TAB>time<TAB>o|e<TAB>text`. The shim writes it; the supervisor tails it and the API reads
//! it. A run keeps at most two segments (`output.log` and `output.log.1`), each capped.

use crate::models::runtime::{LogLine, LogStream};
use chrono::{DateTime, Utc};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

pub use optimus_shim::log::{
    clean_line, format_line, redact, Stream, CURRENT, MAX_LINE, PREVIOUS, STATUS,
};

/// Parses one stored line (without its newline).
pub fn parse_line(service_id: i64, run_id: i64, line: &str) -> Option<LogLine> {
    let mut parts = line.splitn(4, '\t');
    let seq = parts.next()?.parse().ok()?;
    let at = DateTime::parse_from_rfc3339(parts.next()?)
        .ok()?
        .with_timezone(&Utc);
    let stream = match parts.next()? {
        "o" => LogStream::Stdout,
        "e" => LogStream::Stderr,
        _ => return None,
    };
    Some(LogLine {
        service_id,
        run_id,
        seq,
        at,
        stream,
        text: parts.next().unwrap_or_default().to_owned(),
    })
}

/// Every line of a run, oldest first (previous segment, then current).
pub fn read_run(dir: &Path, service_id: i64, run_id: i64) -> Vec<LogLine> {
    let mut out = Vec::new();
    for name in [PREVIOUS, CURRENT] {
        if let Ok(f) = File::open(dir.join(name)) {
            for line in BufReader::new(f).lines().map_while(Result::ok) {
                if let Some(l) = parse_line(service_id, run_id, &line) {
                    out.push(l);
                }
            }
        }
    }
    out
}

/// Follows a run's current segment: each call returns the complete lines added since the last.
#[derive(Debug)]
pub struct Tail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl Tail {
    /// Starts at the end of what is there now (`from_end`), or at the beginning.
    pub fn new(dir: &Path, from_end: bool) -> Self {
        let path = dir.join(CURRENT);
        let offset = if from_end {
            std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        } else {
            0
        };
        Self {
            path,
            offset,
            partial: Vec::new(),
        }
    }

    /// New complete lines. A segment switch (the file got shorter) starts over at its beginning.
    pub fn read(&mut self, service_id: i64, run_id: i64) -> Vec<LogLine> {
        // Called whenever the run's directory changes (at most ten times a second), and once a
        // second anyway: while nothing was written, one `stat` and no more.
        let Ok(len) = std::fs::metadata(&self.path).map(|m| m.len()) else {
            return Vec::new();
        };
        if len == self.offset {
            return Vec::new();
        }
        let Ok(mut f) = File::open(&self.path) else {
            return Vec::new();
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(len);
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
        }
        if len == self.offset || f.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut buf = Vec::new();
        // At most 4 MiB per call; the rest comes on the next.
        let read = f.take(4 << 20).read_to_end(&mut buf).unwrap_or(0);
        self.offset += read as u64;
        self.partial.extend_from_slice(&buf);
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(i) = self.partial[start..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&self.partial[start..start + i]);
            if let Some(l) = parse_line(service_id, run_id, &line) {
                out.push(l);
            }
            start += i + 1;
        }
        self.partial.drain(..start);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_tabs_in_text_survive() {
        let at = Utc::now();
        let f = format_line(7, at, Stream::Stderr, "a\tb");
        let l = parse_line(1, 2, f.trim_end()).map(|l| (l.seq, l.stream, l.text));
        assert_eq!(l, Some((7, LogStream::Stderr, "a\tb".to_owned())));
    }
}
