//! SeaORM entities of notifications, per-user read markers, and notifications that leave
//! Optimus (channels, rules, maintenance windows, the delivery outbox and its log): table rows,
//! server-only, touched only by this feature's repository. Wire types live in `crate::models`.

pub mod attempt;
pub mod channel;
pub mod delivery;
pub mod mute;
pub mod notification;
pub mod notification_read;
pub mod rule;
