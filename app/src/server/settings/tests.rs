//! Settings: defaults, file and environment layering, and every check naming its key.
#![expect(
    clippy::result_large_err,
    reason = "figment's Jail closures return figment's own error type"
)]

use super::*;
use figment::Jail;

fn load() -> Result<Settings, String> {
    Settings::load(None).map_err(|e| e.to_string())
}

#[test]
fn defaults_bind_to_loopback_8005_on_sqlite() {
    Jail::expect_with(|_| {
        let s = load()?;
        assert_eq!(s.bind.to_string(), "127.0.0.1:8005");
        assert!(s.uses_sqlite());
        Ok(())
    });
}

#[test]
fn environment_overrides_the_file_which_overrides_defaults() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "optimus.toml",
            "bind = \"127.0.0.1:7000\"\nlog = \"debug\"\n",
        )?;
        jail.set_env("OPTIMUS_LOG", "warn");
        jail.set_env("OPTIMUS_API_RATE_PER_MINUTE", "5");
        let s = load()?;
        assert_eq!(s.bind.port(), 7000);
        assert_eq!(s.log, "warn");
        assert_eq!(s.api_rate_per_minute, 5);
        Ok(())
    });
}

#[test]
fn empty_optional_values_count_as_unset() {
    Jail::expect_with(|jail| {
        jail.set_env("OPTIMUS_JWT_SECRET", "");
        jail.set_env("OPTIMUS_REDIS_URL", "");
        let s = load()?;
        assert!(s.jwt_secret.is_none());
        assert!(s.redis_url.is_none());
        Ok(())
    });
}

#[test]
fn the_otlp_endpoint_is_a_collector_base_address() {
    Jail::expect_with(|jail| {
        assert_eq!(load()?.otlp_traces_url(), None);
        jail.set_env("OPTIMUS_OTLP_ENDPOINT", "http://collector:4318/");
        assert_eq!(
            load()?.otlp_traces_url().as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        jail.set_env(
            "OPTIMUS_OTLP_ENDPOINT",
            "https://apm.example/otlp/v1/traces",
        );
        assert_eq!(
            load()?.otlp_traces_url().as_deref(),
            Some("https://apm.example/otlp/v1/traces")
        );
        for bad in ["collector:4318", "http://", "grpc://collector:4317"] {
            jail.set_env("OPTIMUS_OTLP_ENDPOINT", bad);
            let err = load().expect_err(bad);
            assert!(err.contains("`otlp_endpoint`"), "{bad}: {err}");
        }
        Ok(())
    });
}

#[test]
fn workspace_roots_are_read_as_a_list_from_the_environment() {
    Jail::expect_with(|jail| {
        jail.set_env("OPTIMUS_WORKSPACE_ROOTS", "[/srv/code,/home/me]");
        let s = load()?;
        assert_eq!(
            s.workspace_roots,
            vec![
                std::path::PathBuf::from("/srv/code"),
                std::path::PathBuf::from("/home/me")
            ]
        );
        Ok(())
    });
}

#[test]
fn a_bad_bind_address_names_the_key() {
    Jail::expect_with(|jail| {
        jail.set_env("OPTIMUS_BIND", "not-an-address");
        let err = load().err().unwrap_or_default();
        assert!(err.contains("bind"), "{err}");
        Ok(())
    });
}

#[test]
fn a_bad_database_url_names_the_key() {
    Jail::expect_with(|jail| {
        jail.set_env("OPTIMUS_DATABASE_URL", "mysql://x");
        let err = load().err().unwrap_or_default();
        assert!(err.contains("database_url"), "{err}");
        Ok(())
    });
}

#[test]
fn an_unknown_key_in_the_file_is_refused() {
    Jail::expect_with(|jail| {
        jail.create_file("optimus.toml", "bnid = \"127.0.0.1:7000\"\n")?;
        let err = load().err().unwrap_or_default();
        assert!(err.contains("bnid"), "{err}");
        Ok(())
    });
}

#[test]
fn secrets_are_redacted_in_debug() {
    Jail::expect_with(|jail| {
        jail.set_env("OPTIMUS_DATABASE_URL", "postgres://u:topsecret@h/db");
        let s = load()?;
        assert!(!format!("{s:?}").contains("topsecret"));
        assert!(!s.database_url_for_logs().contains("topsecret"));
        Ok(())
    });
}

#[test]
fn generated_secrets_persist_with_private_permissions() {
    Jail::expect_with(|jail| {
        jail.set_env("OPTIMUS_DATA_DIR", "state");
        let mut a = load()?;
        let mut b = load()?;
        a.ensure_data_dir_and_secrets().map_err(|e| e.to_string())?;
        b.ensure_data_dir_and_secrets().map_err(|e| e.to_string())?;
        assert!(a.jwt_secret.is_some());
        assert_eq!(a.jwt_secret, b.jwt_secret);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata("state/secrets.toml")
                .map(|m| m.permissions().mode() & 0o777)
                .map_err(|e| e.to_string())?;
            assert_eq!(mode, 0o600);
        }
        Ok(())
    });
}
