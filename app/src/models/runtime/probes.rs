//! Health probes: what a probe checks, its timing, and the three a service may have.

use serde::{Deserialize, Serialize};

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProbeCheck {
    /// An HTTP GET to the service's port (a service without a port: 422).
    Http {
        /// Request path, e.g. `/healthz`: starts with `/`, no spaces, at most 500 characters.
        #[serde(default = "slash")]
        #[cfg_attr(
            feature = "ssr",
            schema(
                max_length = 500,
                pattern = r"^/[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
            )
        )]
        path: String,
        /// The expected status, 100–599 (default: any 2xx or 3xx).
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(minimum = 100, maximum = 599))]
        status: Option<u16>,
        /// Text the body must contain (at most 1000 characters).
        #[serde(default)]
        #[cfg_attr(feature = "ssr", schema(max_length = 1000))]
        body: Option<String>,
    },
    /// A TCP connection to the service's port (a service without a port: 422).
    Tcp,
    /// A command run in the service's folder; exit status 0 passes.
    Exec {
        /// The command line (run by `sh -c`): at most 4000 characters, not only spaces.
        #[cfg_attr(
            feature = "ssr",
            schema(
                max_length = 4000,
                pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
            )
        )]
        command: String,
    },
    /// A line of the service's output matching a regular expression.
    LogLine {
        /// The pattern: 1–500 characters (not a valid regular expression: 422).
        #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 500))]
        pattern: String,
    },
}

fn slash() -> String {
    "/".into()
}

/// A probe and its timing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Probe {
    /// What it checks.
    #[cfg_attr(feature = "ssr", schema(schema_with = closed_check))]
    pub check: ProbeCheck,
    /// Time between checks, in milliseconds (50–3600000, default 1000).
    #[serde(default = "probe_interval")]
    #[cfg_attr(feature = "ssr", schema(minimum = 50, maximum = 3_600_000))]
    pub interval_ms: u64,
    /// Time one check may take, in milliseconds (10–60000, default 1000).
    #[serde(default = "probe_interval")]
    #[cfg_attr(feature = "ssr", schema(minimum = 10, maximum = 60_000))]
    pub timeout_ms: u64,
    /// Consecutive failures before the probe counts as failed (1–100, default 3).
    #[serde(default = "three")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    pub failure_threshold: u32,
}

/// [`ProbeCheck`]'s schema with each kind closed to its own fields, as serde refuses others
/// (utoipa closes a struct with `deny_unknown_fields`, not an enum's variants).
#[cfg(feature = "ssr")]
fn closed_check() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    use utoipa::openapi::RefOr;
    let mut schema = <ProbeCheck as utoipa::PartialSchema>::schema();
    if let RefOr::T(Schema::OneOf(one_of)) = &mut schema {
        for item in &mut one_of.items {
            if let RefOr::T(Schema::Object(o)) = item {
                o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
    }
    schema
}

fn probe_interval() -> u64 {
    1000
}

fn three() -> u32 {
    3
}

/// A service's probes (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Probes {
    /// Must pass once before the others start; failing it (after the threshold) fails the run.
    #[serde(default)]
    pub startup: Option<Probe>,
    /// Decides when the service counts as ready (dependents wait for it).
    #[serde(default)]
    pub readiness: Option<Probe>,
    /// Failing it restarts the service per its policy.
    #[serde(default)]
    pub liveness: Option<Probe>,
}
