//! The deployments feature's queries: the only code touching its entities. Releases
//! (numbering, pinning, pruning) in [`releases`], deployments (the one-at-a-time-per-project
//! claim, leases, the current one) in [`deployments`].

pub mod deployments;
pub mod releases;
