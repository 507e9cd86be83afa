//! The `optimus` binary itself: help, user creation from stdin, serve and SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

fn optimus() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_optimus"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OPTIMUS_") {
            cmd.env_remove(k);
        }
    }
    // No self-backup at start: these tests time start-up and shutdown.
    cmd.env("OPTIMUS_SELF_BACKUP_CRON", "");
    cmd
}

#[test]
fn help_lists_the_commands() {
    let out = optimus().arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "migrate", "user"] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = optimus()
        .arg("serve")
        .env("OPTIMUS_DATA_DIR", dir.path())
        .env("OPTIMUS_BIND", "nonsense")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bind"), "{err}");
}

#[test]
fn user_create_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = optimus()
        .args([
            "user",
            "create",
            "--username",
            "ci-admin",
            "--role",
            "admin",
        ])
        .env("OPTIMUS_DATA_DIR", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"correct horse battery staple\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ci-admin"));
    assert!(dir.path().join("optimus.db").exists());
    assert!(dir.path().join("secrets.toml").exists());

    let mut weak = optimus()
        .args(["user", "create", "--username", "other", "--role", "viewer"])
        .env("OPTIMUS_DATA_DIR", dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    weak.stdin
        .take()
        .expect("stdin")
        .write_all(b"short\n")
        .expect("write");
    let out = weak.wait_with_output().expect("wait");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
}

/// A child process that is killed and reaped when dropped, so a failing test leaves no server.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Free ports no other test is handed: below the kernel's ephemeral range (where every `:0`
/// bind lands) and above the range services are allocated from; each checked free when asked.
fn quiet_ports() -> impl Iterator<Item = u16> {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let quiet: Vec<u16> = (30000..ephemeral.clamp(30000, 32768)).collect();
    let offset = usize::try_from(std::process::id()).unwrap_or(0) % quiet.len().max(1);
    let count = quiet.len();
    quiet
        .into_iter()
        .cycle()
        .skip(offset)
        .take(count)
        .filter(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
}

/// Waits until the child answers `/healthz` on `port`: false when it exited first (it could not
/// bind), and it must still be running when the answer comes (the answer is its own).
async fn answers(child: &mut KillOnDrop, port: u16) -> bool {
    let url = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..150 {
        if child.0.try_wait().expect("wait").is_some() {
            return false;
        }
        let ok = reqwest::get(&url)
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if ok {
            assert!(
                child.0.try_wait().expect("wait").is_none(),
                "another process answered on {port}"
            );
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("optimus serve never answered on OPTIMUS_BIND 127.0.0.1:{port}");
}

#[tokio::test]
async fn serve_honours_bind_and_data_dir_and_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A port free when checked can still be taken before the server binds it: then the server
    // exits and the next port is tried.
    let mut ports = quiet_ports().take(5);
    let logs = tempfile::tempdir().expect("tempdir");
    let log = logs.path().join("serve.log");
    let mut child = loop {
        let port = ports.next().expect("a free port below the ephemeral range");
        let mut child = KillOnDrop(
            optimus()
                .arg("serve")
                .env("OPTIMUS_DATA_DIR", dir.path())
                .env("OPTIMUS_BIND", format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("spawn"),
        );
        if answers(&mut child, port).await {
            break child;
        }
    };
    assert!(
        dir.path().join("optimus.db").exists(),
        "the database lives in OPTIMUS_DATA_DIR"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // Shutdown waits up to 10 s for background work; 30 s is far beyond any healthy stop.
    let mut exit = None;
    for _ in 0..300 {
        if let Some(s) = child.0.try_wait().expect("wait") {
            exit = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let exit =
        exit.unwrap_or_else(|| panic!("still running 30 s after SIGTERM; it logged:\n{logged}"));
    assert_eq!(
        exit.code(),
        Some(0),
        "exit status after SIGTERM ({exit}); it logged:\n{logged}"
    );
}
