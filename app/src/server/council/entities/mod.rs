//! SeaORM entities of personas, deliberations, turns, memories and the knowledge graph: table rows, server-only, touched only by this
//! feature's repository. Wire types live in `crate::models`.

pub mod council_calibration;
pub mod council_deliberation;
pub mod council_memory;
pub mod council_persona;
pub mod council_turn;
pub mod kg_edge;
pub mod kg_node;
