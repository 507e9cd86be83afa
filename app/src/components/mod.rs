//! Presentational components and the signed-in layout.

pub mod browser;
pub mod charts;
pub mod host;
pub mod layout;
pub mod live;
pub mod palette;
pub mod project_card;
pub mod services;
pub mod shortcuts;
pub mod status;
pub mod theme;
pub mod toasts;
