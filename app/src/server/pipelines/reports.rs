//! What a step leaves behind: the files its artifact globs match, copied under Optimus's data
//! folder with their size and SHA-256 (the project's tree may change or be cleaned before
//! anyone downloads them), and the counts in its JUnit report. Blocking file work: callers run
//! it off the async threads.

use crate::models::pipelines::TestCounts;
use globset::{Glob, GlobSetBuilder};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// At most this many files are kept per step.
pub const MAX_FILES: usize = 1000;
/// At most this many bytes are kept per step.
pub const MAX_BYTES: u64 = 1024 * 1024 * 1024;

/// A file kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// Relative to the step's folder, `/`-separated.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// The copy.
    pub stored: PathBuf,
}

/// The folder under `cwd` a glob's matches can be in: its leading components without glob
/// characters (`dist/*.tar.gz` → `dist`, `**/*.xml` → the step's folder itself).
fn walk_root(glob: &str) -> PathBuf {
    let mut root = PathBuf::new();
    let parts: Vec<&str> = glob.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        if part.contains(['*', '?', '[', '{']) {
            break;
        }
        root.push(part);
    }
    root
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies `from` to `to`, hashing what it copies.
fn copy_hashed(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut input = File::open(from)?;
    let mut output = File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        size += n as u64;
    }
    output.sync_all()?;
    Ok((size, hex(&hasher.finalize())))
}

/// Copies the regular files under `cwd` that `globs` match into `into`, keeping their relative
/// paths. Symbolic links are not followed (a link could lead out of the project). Returns what
/// was kept, and what could not be (in words).
pub fn keep_artifacts(cwd: &Path, globs: &[String], into: &Path) -> (Vec<Kept>, Vec<String>) {
    let mut kept: Vec<Kept> = Vec::new();
    let mut problems = Vec::new();
    if globs.is_empty() {
        return (kept, problems);
    }
    let mut set = GlobSetBuilder::new();
    for g in globs {
        match Glob::new(g) {
            Ok(glob) => {
                set.add(glob);
            }
            Err(e) => problems.push(format!("`{g}`: {e}")),
        }
    }
    let Ok(set) = set.build() else {
        problems.push("the artifact globs could not be compiled".into());
        return (kept, problems);
    };
    let mut roots: Vec<PathBuf> = globs.iter().map(|g| walk_root(g)).collect();
    roots.sort();
    roots.dedup();
    // A root inside another root is walked with it.
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o)))
        .cloned()
        .collect();
    let mut bytes = 0u64;
    let mut matched = 0usize;
    for root in roots {
        let start = cwd.join(&root);
        if !start.is_dir() {
            continue;
        }
        let walk = ignore::WalkBuilder::new(&start)
            .standard_filters(false)
            .follow_links(false)
            .build();
        for entry in walk.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(cwd) else {
                continue;
            };
            if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
                continue;
            }
            let rel_text = rel.to_string_lossy().replace('\\', "/");
            if !set.is_match(rel) || kept.iter().any(|k| k.path == rel_text) {
                continue;
            }
            matched += 1;
            if kept.len() >= MAX_FILES {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if bytes + size > MAX_BYTES {
                problems.push(format!(
                    "`{rel_text}` ({size} bytes) not kept: a step keeps at most {MAX_BYTES} bytes"
                ));
                continue;
            }
            let stored = into.join(rel);
            match copy_hashed(entry.path(), &stored) {
                Ok((size, sha256)) => {
                    bytes += size;
                    kept.push(Kept {
                        path: rel_text,
                        size,
                        sha256,
                        stored,
                    });
                }
                Err(e) => problems.push(format!("`{rel_text}` could not be copied: {e}")),
            }
        }
    }
    if matched > MAX_FILES {
        problems.push(format!(
            "{matched} files matched; the first {MAX_FILES} were kept"
        ));
    }
    (kept, problems)
}

/// The counts in a JUnit XML report: each `<testcase>` is passed, failed (it holds `<failure>`
/// or `<error>`) or skipped (it holds `<skipped>`). Read as a stream, so a large report is not
/// held in memory; nested `<testsuite>`s are counted once each case.
pub fn junit_counts(path: &Path) -> Result<TestCounts, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_file(path)
        .map_err(|e| format!("cannot read the test report {}: {e}", path.display()))?;
    let mut counts = TestCounts::default();
    let mut buf = Vec::new();
    // The outcome of the test case being read: 0 passed, 1 skipped, 2 failed.
    let mut case: Option<u8> = None;
    fn tally(outcome: u8, counts: &mut TestCounts) {
        match outcome {
            2 => counts.failed += 1,
            1 => counts.skipped += 1,
            _ => counts.passed += 1,
        }
    }
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("the test report {} is not valid XML: {e}", path.display()))?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                b"testcase" => case = Some(0),
                b"failure" | b"error" => case = case.map(|_| 2),
                b"skipped" => case = case.map(|c| c.max(1)),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                b"testcase" => tally(0, &mut counts),
                b"failure" | b"error" => case = case.map(|_| 2),
                b"skipped" => case = case.map(|c| c.max(1)),
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == b"testcase" => {
                if let Some(outcome) = case.take() {
                    tally(outcome, &mut counts);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("optimus-reports-{name}-{}", uuid::Uuid::new_v4()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    }

    #[test]
    fn a_glob_is_walked_from_its_literal_folder() {
        assert_eq!(walk_root("dist/*.tar.gz"), PathBuf::from("dist"));
        assert_eq!(walk_root("out/bin/app"), PathBuf::from("out/bin"));
        assert_eq!(walk_root("**/*.xml"), PathBuf::new());
        assert_eq!(walk_root("report.xml"), PathBuf::new());
    }

    #[test]
    fn matched_files_are_copied_with_size_and_checksum() {
        let cwd = temp("cwd");
        let into = temp("into");
        let _ = std::fs::create_dir_all(cwd.join("dist/sub"));
        let _ = std::fs::write(cwd.join("dist/app.tar.gz"), b"hello");
        let _ = std::fs::write(cwd.join("dist/sub/notes.txt"), b"x");
        let _ = std::fs::write(cwd.join("README"), b"not kept");
        let (kept, problems) = keep_artifacts(
            &cwd,
            &["dist/*.tar.gz".into(), "dist/**/*.txt".into()],
            &into,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let mut paths: Vec<_> = kept.iter().map(|k| k.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["dist/app.tar.gz", "dist/sub/notes.txt"]);
        let app = kept.iter().find(|k| k.path == "dist/app.tar.gz");
        assert_eq!(app.map(|k| k.size), Some(5));
        // sha256("hello")
        assert_eq!(
            app.map(|k| k.sha256.as_str()),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        assert_eq!(
            std::fs::read(into.join("dist/app.tar.gz")).unwrap_or_default(),
            b"hello"
        );
        let _ = std::fs::remove_dir_all(&cwd);
        let _ = std::fs::remove_dir_all(&into);
    }

    #[test]
    fn junit_cases_are_counted_by_outcome() {
        let dir = temp("junit");
        let report = dir.join("report.xml");
        let _ = std::fs::write(
            &report,
            r#"<?xml version="1.0"?>
<testsuites>
  <testsuite name="a" tests="4">
    <testcase name="ok"/>
    <testcase name="ok2"><system-out>fine</system-out></testcase>
    <testcase name="bad"><failure message="no">trace</failure></testcase>
    <testcase name="later"><skipped/></testcase>
  </testsuite>
  <testsuite name="b"><testsuite name="nested">
    <testcase name="boom"><error type="panic"/></testcase>
  </testsuite></testsuite>
</testsuites>"#,
        );
        assert_eq!(
            junit_counts(&report),
            Ok(TestCounts {
                passed: 2,
                failed: 2,
                skipped: 1
            })
        );
        let _ = std::fs::write(&report, "<testsuite><testcase></testsuite>");
        assert!(junit_counts(&report).is_err());
        assert!(junit_counts(&dir.join("missing.xml")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
