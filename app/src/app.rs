//! The HTML shell and the router.

use crate::pages::shell::Shell;
use crate::pages::{
    audit::AuditPage, backups::BackupsPage, council::CouncilPage, deployments::DeploymentsPage,
    home::HomePage, login::LoginPage, not_found::NotFound, notifications::NotificationsPage,
    pipelines::run::RunPage, pipelines::PipelinesPage, project::ProjectPage,
    projects::ProjectsPage, setup::SetupPage, tokens::TokensPage, users::UsersPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// Sets the theme before the first paint, so the page never flashes the wrong one.
const THEME_BOOT: &str = r#"(function(){try{var t=localStorage.getItem('optimus-theme');if(t==='dark'||t==='light'){document.documentElement.setAttribute('data-theme',t);}}catch(e){}})();"#;

/// The whole HTML document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <script inner_html=THEME_BOOT></script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: public pages (setup, login) and the signed-in shell.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    crate::components::toasts::provide_toasts();
    Effect::new(|_| crate::components::browser::mark_hydrated());
    view! {
        <Stylesheet id="leptos" href="/pkg/optimus.css" />
        <Title text="Optimus" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async />
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=Shell ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("projects") view=ProjectsPage ssr=SsrMode::Async />
                    <Route path=path!("projects/:id") view=ProjectPage ssr=SsrMode::Async />
                    <Route path=path!("users") view=UsersPage ssr=SsrMode::Async />
                    <Route path=path!("tokens") view=TokensPage ssr=SsrMode::Async />
                    <Route path=path!("audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("council") view=CouncilPage ssr=SsrMode::Async />
                    <Route path=path!("pipelines") view=PipelinesPage ssr=SsrMode::Async />
                    <Route path=path!("deployments") view=DeploymentsPage ssr=SsrMode::Async />
                    <Route path=path!("backups") view=BackupsPage ssr=SsrMode::Async />
                    <Route path=path!("notifications") view=NotificationsPage ssr=SsrMode::Async />
                    <Route path=path!("pipelines/runs/:id") view=RunPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
