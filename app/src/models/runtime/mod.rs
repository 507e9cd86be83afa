//! The runtime: a project's services, their runs, probes, restart policies and logs.

mod contract;
mod definition;
mod limits;
mod logs;
mod metrics;
mod probes;
mod restart;
mod state;
mod summary;

pub use contract::*;
pub use definition::*;
pub use limits::*;
pub use logs::*;
pub use metrics::*;
pub use probes::*;
pub use restart::*;
pub use state::*;
pub use summary::*;
