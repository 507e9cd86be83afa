//! Finding projects on disk: stack and command detection, git state, and the workspace walk.
//! Everything here reads files and never writes or deletes them.

pub mod descriptor;
pub mod detect;
pub mod git;
pub mod scan;
