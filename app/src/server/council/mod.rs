//! The Council of Minds: personas gather evidence through read-only tools, each takes a position
//! through an [`Engine`], and the positions combine into a calibrated consensus that is stored,
//! remembered and linked into the knowledge graph.
//!
//! - [`personas`]: the thirteen built-in personas and question routing;
//! - [`sources`] → [`evidence`]: what the tools found, numbered, and the signals it carries;
//! - [`offline`]: the default engine, deterministic rules per persona over the signals;
//! - [`consensus`]: the weighted vote, agreement and confidence;
//! - [`memory`]: storage and recall ([`relevance`]: BM25 over stemmed words); [`graph`]:
//!   nodes, edges, validity intervals;
//! - [`repo`]: the queries, the only code that touches [`entities`];
//! - [`deliberations`], [`roster`], [`memories`], [`knowledge`]: the feature's public API,
//!   re-exported below.

pub mod consensus;
pub mod deliberations;
pub mod entities;
pub mod evidence;
pub mod graph;
pub mod judgement;
pub mod knowledge;
pub mod llm;
pub mod memories;
pub mod memory;
pub mod offline;
pub mod personas;
pub mod relevance;
pub mod repo;
pub mod roster;
#[cfg(test)]
mod scenarios;
pub mod sources;

pub use deliberations::{deliberate, get, list, record_observed_outcome, record_outcome};
pub use judgement::calibration::info as calibration;
pub use knowledge::{follow, graph_path, graph_view, record_incident, sync_projects};
pub use memories::{forget_memory, memories, update_memory};
pub use roster::{list_personas, save_persona, seed_personas};

use crate::models::council::{OptionInfo, PersonaInfo, Turn};
use evidence::Signal;
use std::future::Future;

/// What a persona is shown.
pub struct Context<'a> {
    /// The question.
    pub question: &'a str,
    /// The options.
    pub options: &'a [OptionInfo],
    /// The numbered evidence.
    pub evidence: &'a [crate::models::council::Evidence],
    /// Its decision signals, as the kind of decision reads them.
    pub signals: &'a [Signal],
    /// The kind of decision and what it asks of the evidence.
    pub frame: &'a judgement::Frame,
}

/// How a persona reaches its position: offline rules, or a language model.
pub trait Engine: Send + Sync {
    /// `offline` or `llm`.
    fn name(&self) -> &'static str;

    /// Round one: the persona's independent position.
    fn position(
        &self,
        persona: &PersonaInfo,
        ctx: &Context<'_>,
    ) -> impl Future<Output = Result<Turn, String>> + Send;

    /// Round two: its revision after seeing the others' anonymised (option, confidence).
    fn revise(
        &self,
        persona: &PersonaInfo,
        ctx: &Context<'_>,
        own: &Turn,
        others: &[(String, f64)],
    ) -> impl Future<Output = Result<Turn, String>> + Send;
}

/// The deterministic engine (the default; needs no network).
pub struct Offline;

impl Engine for Offline {
    fn name(&self) -> &'static str {
        "offline"
    }

    fn position(
        &self,
        persona: &PersonaInfo,
        ctx: &Context<'_>,
    ) -> impl Future<Output = Result<Turn, String>> + Send {
        let turn = offline::position(persona, ctx.options, ctx.signals, ctx.frame);
        async move { Ok(turn) }
    }

    fn revise(
        &self,
        _persona: &PersonaInfo,
        _ctx: &Context<'_>,
        own: &Turn,
        others: &[(String, f64)],
    ) -> impl Future<Output = Result<Turn, String>> + Send {
        let turn = offline::revise(own, others);
        async move { Ok(turn) }
    }
}
