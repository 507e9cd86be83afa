//! `/api/v1/notifications/*`: the notification centre (alerts, crash loops), and notifications
//! that leave Optimus: channels, rules, maintenance windows and the delivery log.

use crate::models::notifications::{
    ChannelCreated, ChannelInfo, CreateChannelRequest, CreateMuteRequest, CreateRuleRequest,
    DeliveriesRequest, DeliveryInfo, ItemRequest, MarkReadRequest, MuteInfo, MutesRequest,
    NotificationList, NotificationsQuery, RuleInfo, RulesRequest, UpdateChannelRequest,
};

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

endpoint! {
    /// Notification channels (their secrets are never shown)
    "notifications/channels", requires ReadNotificationChannels, |state, caller|
    pub async fn list_notification_channels() -> Vec<ChannelInfo> {
        use crate::server::notifications::channels;
        Ok(channels::list(&state, &caller).await?)
    }
}

endpoint! {
    /// Add a notification channel
    ///
    /// `config.kind` is `webhook` (JSON signed per Standard Webhooks; the signing secret is made
    /// and shown once unless given), `slack` (a Slack-compatible incoming webhook) or `email`
    /// (SMTP with `starttls`, `tls`, or `none` to a loopback host). Sealed with the master key.
    "notifications/create_channel", requires ManageNotificationChannels, |state, caller|
    pub async fn create_notification_channel(request: CreateChannelRequest) -> ChannelCreated {
        use crate::server::notifications::channels;
        Ok(channels::create(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Change a notification channel (name, enabled, or a whole new configuration)
    "notifications/update_channel", requires ManageNotificationChannels, |state, caller|
    pub async fn update_notification_channel(request: UpdateChannelRequest) -> ChannelCreated {
        use crate::server::notifications::channels;
        Ok(channels::update(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Remove a notification channel with its rules and delivery log
    "notifications/delete_channel", requires ManageNotificationChannels, |state, caller|
    pub async fn delete_notification_channel(request: ItemRequest) -> () {
        use crate::server::notifications::channels;
        Ok(channels::delete(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Send a test notification through a channel now, and see how it went
    "notifications/test_channel", requires ManageNotificationChannels, |state, caller|
    pub async fn test_notification_channel(request: ItemRequest) -> DeliveryInfo {
        use crate::server::notifications::channels;
        Ok(channels::test(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Notification rules, of one channel or all
    "notifications/rules", requires ReadNotificationChannels, |state, caller|
    pub async fn list_notification_rules(request: RulesRequest) -> Vec<RuleInfo> {
        use crate::server::notifications::routing;
        Ok(routing::rules(&state, &caller, request.channel_id).await?)
    }
}

endpoint! {
    /// Add a rule: these notifications (kinds, level, project) go to that channel
    "notifications/create_rule", requires ManageNotificationChannels, |state, caller|
    pub async fn create_notification_rule(request: CreateRuleRequest) -> RuleInfo {
        use crate::server::notifications::routing;
        Ok(routing::create_rule(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Remove a notification rule
    "notifications/delete_rule", requires ManageNotificationChannels, |state, caller|
    pub async fn delete_notification_rule(request: ItemRequest) -> () {
        use crate::server::notifications::routing;
        Ok(routing::delete_rule(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Maintenance windows (those not over, or all)
    "notifications/mutes", requires ReadNotificationChannels, |state, caller|
    pub async fn list_notification_mutes(request: MutesRequest) -> Vec<MuteInfo> {
        use crate::server::notifications::routing;
        Ok(routing::mutes(&state, &caller, request.include_past).await?)
    }
}

endpoint! {
    /// Add a maintenance window: a project's (or every) notification is not sent out during it
    "notifications/create_mute", requires MuteNotifications, |state, caller|
    pub async fn create_notification_mute(request: CreateMuteRequest) -> MuteInfo {
        use crate::server::notifications::routing;
        Ok(routing::create_mute(&state, &caller, request).await?)
    }
}

endpoint! {
    /// End (remove) a maintenance window
    "notifications/delete_mute", requires MuteNotifications, |state, caller|
    pub async fn delete_notification_mute(request: ItemRequest) -> () {
        use crate::server::notifications::routing;
        Ok(routing::delete_mute(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// The delivery log, newest first (`status: dead` is the dead-letter list)
    "notifications/deliveries", requires ReadNotificationChannels, |state, caller|
    pub async fn list_notification_deliveries(request: DeliveriesRequest) -> Vec<DeliveryInfo> {
        use crate::server::notifications::outbox;
        Ok(outbox::list(&state, &caller, request).await?)
    }
}

endpoint! {
    /// One delivery with every attempt (status, latency, error)
    "notifications/delivery", requires ReadNotificationChannels, |state, caller|
    pub async fn get_notification_delivery(request: ItemRequest) -> DeliveryInfo {
        use crate::server::notifications::outbox;
        Ok(outbox::get(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Resend a dead delivery (a fresh budget of attempts)
    "notifications/resend", requires ManageNotificationChannels, |state, caller|
    pub async fn resend_notification_delivery(request: ItemRequest) -> DeliveryInfo {
        use crate::server::notifications::outbox;
        Ok(outbox::resend(&state, &caller, request.id).await?)
    }
}
