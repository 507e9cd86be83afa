//! Presentational components and the signed-in layout.

pub mod browser;
pub mod charts;
pub mod environments;
pub mod host;
pub mod layout;
pub mod live;
pub mod notifications;
pub mod palette;
pub mod project_card;
pub mod services;
pub mod shortcuts;
pub mod status;
pub mod theme;
pub mod toasts;
