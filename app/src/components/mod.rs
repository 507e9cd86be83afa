//! Presentational components (they take data and signals, and fetch nothing), the signed-in
//! layout, and the notification bell, which fetches its own list (see its module).

pub mod ansi;
pub mod browser;
pub mod charts;
pub mod filter_select;
pub mod host;
pub mod layout;
pub mod line_chart;
pub mod live;
pub mod notifications;
pub mod palette;
pub mod project_card;
pub mod shortcuts;
pub mod status;
pub mod theme;
pub mod toasts;
