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

#[tokio::test]
async fn serve_honours_bind_and_data_dir_and_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut child = optimus()
        .arg("serve")
        .env("OPTIMUS_DATA_DIR", dir.path())
        .env("OPTIMUS_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let url = format!("http://127.0.0.1:{port}/healthz");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(&url)
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "optimus serve answered on OPTIMUS_BIND");
    assert!(
        dir.path().join("optimus.db").exists(),
        "the database lives in OPTIMUS_DATA_DIR"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut code = None;
    for _ in 0..100 {
        if let Some(s) = child.try_wait().expect("wait") {
            code = s.code();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if code.is_none() {
        let _ = child.kill();
    }
    assert_eq!(code, Some(0));
}
