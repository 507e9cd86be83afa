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
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

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

/// Declares a page as a lazily loaded route: built with `cargo leptos build --split` (as
/// `scripts/build.sh` does), the page's code and whatever only it uses go into a wasm chunk of
/// their own, fetched when the page is first shown (a server-rendered page names its chunks in
/// `<link rel=preload>`s, so they load beside the main module). The signed-in shell is one too,
/// so a visitor's login page loads neither it nor any page; the main module keeps the router.
///
/// A page (not the shell) marks `<body data-hydrated>` once it has hydrated: its chunk arrives
/// after the main module, so the app's own first effect would come too early for anything that
/// waits on the marker (the end-to-end tests) to find the page's handlers in place.
macro_rules! lazy_page {
    (shell $route:ident, $page:ident) => {
        lazy_page!(@route $route, $page, false);
    };
    ($route:ident, $page:ident) => {
        lazy_page!(@route $route, $page, true);
    };
    (@route $route:ident, $page:ident, $marks:literal) => {
        #[doc = concat!("The route of [`", stringify!($page), "`], loaded on first use.")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                let page = view! { <$page /> };
                if $marks {
                    Effect::new(|_| crate::components::browser::mark_hydrated());
                }
                page.into_any()
            }
        }
    };
}

lazy_page!(shell ShellRoute, Shell);
lazy_page!(SetupRoute, SetupPage);
lazy_page!(LoginRoute, LoginPage);
lazy_page!(HomeRoute, HomePage);
lazy_page!(ProjectsRoute, ProjectsPage);
lazy_page!(ProjectRoute, ProjectPage);
lazy_page!(UsersRoute, UsersPage);
lazy_page!(TokensRoute, TokensPage);
lazy_page!(AuditRoute, AuditPage);
lazy_page!(CouncilRoute, CouncilPage);
lazy_page!(PipelinesRoute, PipelinesPage);
lazy_page!(RunRoute, RunPage);
lazy_page!(DeploymentsRoute, DeploymentsPage);
lazy_page!(BackupsRoute, BackupsPage);
lazy_page!(NotificationsRoute, NotificationsPage);

/// The application: public pages (setup, login) and the signed-in shell.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    crate::components::toasts::provide_toasts();
    view! {
        <Stylesheet id="leptos" href="/pkg/optimus.css" />
        <Title text="Optimus" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()} ssr=SsrMode::Async />
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                <ParentRoute path=path!("") view={Lazy::<ShellRoute>::new()} ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("projects") view={Lazy::<ProjectsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("projects/:id") view={Lazy::<ProjectRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("tokens") view={Lazy::<TokensRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("council") view={Lazy::<CouncilRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("pipelines") view={Lazy::<PipelinesRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("deployments") view={Lazy::<DeploymentsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("backups") view={Lazy::<BackupsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("notifications") view={Lazy::<NotificationsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("pipelines/runs/:id") view={Lazy::<RunRoute>::new()} ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
