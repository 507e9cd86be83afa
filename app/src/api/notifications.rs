//! `/api/v1/notifications/*`: the notification centre (alerts, crash loops).

use crate::models::notifications::{MarkReadRequest, NotificationList, NotificationsQuery};

endpoint! {
    /// Notifications, newest first, with the caller's unread count
    "notifications/list", requires ReadNotifications, |state, caller|
    pub async fn list_notifications(query: NotificationsQuery) -> NotificationList {
        use crate::server::notifications;
        Ok(notifications::list(&state, &caller, query).await?)
    }
}

endpoint! {
    /// Mark the caller's notifications read (up to an id, or all)
    "notifications/mark_read", requires ReadNotifications, |state, caller|
    pub async fn mark_notifications_read(request: MarkReadRequest) -> NotificationList {
        use crate::server::notifications;
        Ok(notifications::mark_read(&state, &caller, request).await?)
    }
}
