//! SeaORM entities of pipelines: table rows, server-only, touched only by this feature's
//! repository. Wire types live in `crate::models::pipelines`.

pub mod pipeline;
pub mod pipeline_artifact;
pub mod pipeline_run;
pub mod pipeline_step;
pub mod pipeline_trigger;
