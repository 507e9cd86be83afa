//! Pipelines: a project's build, test and release steps as a DAG with typed parameters and
//! triggers. The definitions, the DAG's order and the parameter rules are shared by the browser
//! (forms, the DAG drawing) and the server.

mod dag;
mod definition;
mod params;
mod requests;
mod runs;
mod state;

pub use dag::{levels, DagError};
pub use definition::*;
pub use params::{check_value, resolve, ParameterError};
pub use requests::*;
pub use runs::*;
pub use state::{RunState, StepState};
