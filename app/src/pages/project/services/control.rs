//! Whole-project service control: start, stop, restart or set up from detection every service
//! of a project, from the buttons and from the `s`/`x`/`r` keys.

use crate::api::runtime::{
    import_detected_services, restart_project_services, start_project_services,
    stop_project_services,
};
use crate::components::toasts::{use_toasts, Toasts};
use crate::models::auth::Me;
use crate::models::runtime::ProjectServicesRequest;
use crate::models::Operation;
use leptos::prelude::*;

/// Starts, stops, restarts (`start`, `stop`, `restart`) or sets up from detection (`import`)
/// every service of a project, and says how it went in a toast.
pub async fn act_on_project(toasts: Toasts, project_id: i64, what: &'static str) {
    let req = ProjectServicesRequest { project_id };
    let r = match what {
        "start" => start_project_services(req).await.map(|_| ()),
        "stop" => stop_project_services(req).await.map(|_| ()),
        "restart" => restart_project_services(req).await.map(|_| ()),
        _ => import_detected_services(req).await.map(|_| ()),
    };
    match r {
        Ok(()) => toasts.info(match what {
            "start" => "Starting every service",
            "stop" => "Stopped every service",
            "restart" => "Restarting every service",
            _ => "Services set up from detection",
        }),
        Err(e) => toasts.error(e.to_string()),
    }
}

/// On a project's page, whatever its tab: `s` starts, `x` stops, `r` restarts every service of
/// the project (for callers allowed to control services).
pub fn use_service_shortcuts(project_id: Signal<Option<i64>>) {
    let toasts = use_toasts();
    let can_control =
        use_context::<Me>().is_some_and(|m| Operation::ControlServices.allowed_for(m.role));
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if !can_control
                || crate::components::layout::is_typing(&ev)
                || ev.ctrl_key()
                || ev.meta_key()
                || ev.alt_key()
            {
                return;
            }
            let Some(id) = project_id.get_untracked() else {
                return;
            };
            let what = match ev.key().as_str() {
                "s" => "start",
                "x" => "stop",
                "r" => "restart",
                _ => return,
            };
            leptos::task::spawn_local(act_on_project(toasts, id, what));
        });
        on_cleanup(move || handle.remove());
    });
}
