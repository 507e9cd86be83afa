//! The council's queries, the only code that touches its entities. Each function takes
//! `&impl ConnectionTrait`, so it works on the pool and inside a transaction alike; the stored
//! JSON of a row is read through the typed decoders here, which fail naming table and row.

pub mod calibration;
pub mod deliberations;
pub mod graph;
pub mod memories;
pub mod personas;
