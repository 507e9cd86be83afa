//! GitHub's side of a project on its overview: default branch, CI of the default branch and of
//! the local HEAD, open pull requests, the latest release, and how far HEAD is from the default
//! branch; admins set the token here when none is configured.

use crate::api::github::{configure_github, github_project};
use crate::components::toasts::use_toasts;
use crate::models::auth::Me;
use crate::models::github::{
    CiStatus, ConfigureGitHubRequest, GitHubProject, GitHubProjectRequest,
};
use crate::models::Operation;
use crate::pages::deployments::when;
use leptos::prelude::*;

fn ci_badge(c: Option<CiStatus>) -> AnyView {
    let Some(c) = c else {
        return view! { <span class="muted">"not on GitHub"</span> }.into_any();
    };
    let class = match c.state.as_str() {
        "success" => "badge ok",
        "failure" => "badge danger",
        "pending" => "badge running",
        _ => "badge subtle",
    };
    let detail = if c.failing.is_empty() {
        format!(" {} check(s)", c.total)
    } else {
        format!(" failing: {}", c.failing.join(", "))
    };
    view! {
        <span class=class data-ci=c.state.clone()>{c.state.clone()}</span>
        <span class="muted">{detail}</span>
    }
    .into_any()
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| when(&t.to_rfc3339()))
        .unwrap_or_else(|| "—".into())
}

/// The GitHub section (drawn in the browser).
#[component]
pub fn GitHubSection(
    /// The project.
    id: i64,
) -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let state = LocalResource::new(move || {
        let n = refresh.get();
        github_project(GitHubProjectRequest { id, refresh: n > 0 })
    });
    view! {
        <h2>"GitHub"</h2>
        <div data-testid="github">
            <Transition fallback=|| view! { <p class="muted">"Asking GitHub…"</p> }>
                {move || Suspend::new(async move {
                    match state.await {
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        Ok(g) => view! { <State g refresh /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn State(g: GitHubProject, refresh: RwSignal<u32>) -> impl IntoView {
    match g.status.as_str() {
        "not_configured" => view! { <Configure refresh /> }.into_any(),
        "not_github" => view! {
            <p class="muted" data-testid="github-status">"Its origin remote is not on the configured GitHub."</p>
        }
        .into_any(),
        _ => view! { <Facts g refresh /> }.into_any(),
    }
}

#[component]
fn Facts(g: GitHubProject, refresh: RwSignal<u32>) -> impl IntoView {
    let repo = g.repository.clone().unwrap_or_default();
    let link = g.html_url.clone().unwrap_or_default();
    let branch = g.default_branch.clone().unwrap_or_else(|| "—".into());
    let head = g
        .local_head
        .as_deref()
        .map(|h| h.chars().take(10).collect::<String>())
        .unwrap_or_else(|| "—".into());
    let distance = match (g.ahead_by, g.behind_by) {
        (Some(a), Some(b)) => format!(
            "{a} ahead, {b} behind {branch}{}",
            if g.compared_by.as_deref() == Some("local") {
                " (local copy of origin)"
            } else {
                ""
            }
        ),
        _ => "unknown (HEAD is not on GitHub)".into(),
    };
    let release = g
        .latest_release
        .clone()
        .map(|r| view! { <a href=r.html_url.clone() rel="noopener">{r.tag.clone()}</a> {format!(" {}", time(r.published_at))}}.into_any())
        .unwrap_or_else(|| view! { <span class="muted">"none"</span> }.into_any());
    let pulls = g.pulls.clone();
    view! {
        {g.error.clone().map(|e| view! { <p class="error" data-testid="github-error">{e}</p> })}
        <table class="table" data-testid="github-facts">
            <tbody>
                <tr><th>"Repository"</th><td><a href=link rel="noopener">{repo}</a></td></tr>
                <tr><th>"Default branch"</th><td>{branch.clone()} " " {ci_badge(g.default_branch_ci.clone())}</td></tr>
                <tr><th>"Local HEAD"</th><td data-testid="github-head"><code>{head}</code> " " {ci_badge(g.head_ci.clone())}</td></tr>
                <tr><th>"Compared"</th><td data-testid="github-distance">{distance}</td></tr>
                <tr><th>"Latest release"</th><td>{release}</td></tr>
                <tr><th>"Open pull requests"</th><td data-testid="github-pulls">{g.open_pulls.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td></tr>
            </tbody>
        </table>
        {(!pulls.is_empty()).then(|| view! {
            <ul class="plain">
                {pulls.into_iter().map(|p| view! {
                    <li>
                        <a href=p.html_url.clone() rel="noopener">{format!("#{} {}", p.number, p.title)}</a>
                        <span class="muted">{format!(" by {}{}", p.author, if p.draft { " (draft)" } else { "" })}</span>
                    </li>
                }).collect_view()}
            </ul>
        })}
        <p class="muted" data-testid="github-refreshed">
            {format!(
                "Fetched {} ({} request(s), {} unchanged) · next refresh {} ",
                time(g.fetched_at), g.requests, g.not_modified, time(g.next_refresh_at)
            )}
            <button class="button" data-testid="github-refresh" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
        </p>
    }
}

#[component]
fn Configure(refresh: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let admin = use_context::<Me>().is_some_and(|m| Operation::ConfigureGitHub.allowed_for(m.role));
    let token = RwSignal::new(String::new());
    let base = RwSignal::new(String::new());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = ConfigureGitHubRequest {
            token: Some(token.get_untracked()),
            base_url: Some(base.get_untracked()).filter(|b| !b.trim().is_empty()),
            remove: false,
        };
        leptos::task::spawn_local(async move {
            match configure_github(req).await {
                Ok(_) => {
                    token.set(String::new());
                    toasts.info("GitHub token saved".to_owned());
                    refresh.update(|n| *n += 1);
                }
                Err(e) => toasts.error(e.to_string()),
            }
        });
    };
    view! {
        <p class="muted" data-testid="github-status">"No GitHub token is configured."</p>
        <Show when=move || admin>
            <form class="form inline" on:submit=save data-testid="github-configure">
                <label>"Token" <input name="token" type="password" required autocomplete="off" bind:value=token /></label>
                <label>"API base URL" <input name="base_url" type="url" placeholder="https://api.github.com" bind:value=base /></label>
                <button class="button primary" type="submit">"Save"</button>
            </form>
        </Show>
    }
}
