//! The project catalog: workspaces (folders to scan) and the projects found in them.

mod activity;
mod curation;
mod dependencies;
mod descriptor;
mod import;
mod project;
mod query;
mod workspace;

pub use activity::*;
pub use curation::*;
pub use dependencies::*;
pub use descriptor::*;
pub use import::*;
pub use project::*;
pub use query::*;
pub use workspace::*;
