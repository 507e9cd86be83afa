//! `/api/v1/notifications/*`: the notification centre (alerts, crash loops).

use crate::error::AppError;
use crate::models::notifications::{MarkReadRequest, NotificationList, NotificationsQuery};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Notifications, newest first, with the caller's unread count.
#[server(prefix = "/api/v1", endpoint = "notifications/list", input = Json, output = Json)]
pub async fn list_notifications(
    #[server(flatten)] query: NotificationsQuery,
) -> Result<NotificationList, AppError> {
    use crate::server::{api_caller, notifications};
    let (state, _, caller) = api_caller().await?;
    Ok(notifications::list(&state, &caller, query).await?)
}

/// Marks the caller's notifications read (up to an id, or all).
#[server(prefix = "/api/v1", endpoint = "notifications/mark_read", input = Json, output = Json)]
pub async fn mark_notifications_read(
    #[server(flatten)] request: MarkReadRequest,
) -> Result<NotificationList, AppError> {
    use crate::server::{api_caller, notifications};
    let (state, _, caller) = api_caller().await?;
    Ok(notifications::mark_read(&state, &caller, request).await?)
}
