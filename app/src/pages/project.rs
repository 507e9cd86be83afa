//! One project's detected facts, commands, git summary, components and problems.

use crate::api::catalog::get_project;
use crate::models::tokens::IdRequest;
use crate::pages::error::ErrorPage;
use crate::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The project detail page.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok())));
    let project = Resource::new(move || id.get(), |id| async move {
        match id {
            Some(id) => get_project(IdRequest { id }).await,
            None => Err(AppError::not_found("project")),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match project.await {
                    Err(error) => view! { <ErrorPage error /> }.into_any(),
                    Ok(p) => {
                        view! {
                            <Title text=format!("{} · Optimus", p.name) />
                            <h1 data-testid="project-title">{p.name.clone()}</h1>
                            <p class="muted">
                                <code>{p.path.clone()}</code>
                                {(p.status == "missing").then(|| view! { <span class="badge warn">"missing from disk"</span> })}
                            </p>
                            <p>{p.description.clone().unwrap_or_default()}</p>
                            <p class="stacks">
                                {p.stacks.iter().map(|s| view! { <span class="badge">{s.as_str()}</span> }).collect_view()}
                                {p.frameworks.iter().map(|f| view! { <span class="badge subtle">{f.clone()}</span> }).collect_view()}
                                {p.port.map(|port| view! { <span class="badge subtle">{format!("port {port}")}</span> })}
                            </p>
                            {(!p.errors.is_empty())
                                .then(|| {
                                    view! {
                                        <div class="callout warn" data-testid="project-errors">
                                            <strong>"Problems found while detecting"</strong>
                                            <ul>{p.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
                                        </div>
                                    }
                                })}
                            <h2>"Commands"</h2>
                            <table class="table" data-testid="commands">
                                <thead>
                                    <tr>
                                        <th>"For"</th>
                                        <th>"Command"</th>
                                        <th>"From"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {p.commands
                                        .iter()
                                        .map(|c| {
                                            view! {
                                                <tr>
                                                    <td>{format!("{:?}", c.kind).to_lowercase()}</td>
                                                    <td>
                                                        <code>{c.command.clone()}</code>
                                                    </td>
                                                    <td class="muted">{c.source.clone()}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <h2>"Git"</h2>
                            {match p.git.clone() {
                                None => view! { <p class="muted">"Not a git repository."</p> }.into_any(),
                                Some(g) => {
                                    view! {
                                        <table class="table" data-testid="git">
                                            <tbody>
                                                <tr>
                                                    <th>"Branch"</th>
                                                    <td>{g.branch.clone().unwrap_or_else(|| "(detached)".into())}</td>
                                                </tr>
                                                <tr>
                                                    <th>"Upstream"</th>
                                                    <td>
                                                        {g.upstream.clone().unwrap_or_else(|| "none".into())}
                                                        {format!(" · {} ahead, {} behind", g.ahead, g.behind)}
                                                    </td>
                                                </tr>
                                                <tr>
                                                    <th>"Working tree"</th>
                                                    <td>{format!("{} staged, {} modified, {} untracked", g.staged, g.modified, g.untracked)}</td>
                                                </tr>
                                                <tr>
                                                    <th>"Last commit"</th>
                                                    <td>
                                                        {g.last_commit
                                                            .clone()
                                                            .map(|c| format!("{} — {} ({}, {})", &c.hash[..c.hash.len().min(10)], c.subject, c.author, c.time.format("%Y-%m-%d")))
                                                            .unwrap_or_else(|| "none".into())}
                                                    </td>
                                                </tr>
                                                <tr>
                                                    <th>"Remote"</th>
                                                    <td>{g.remote_url.clone().unwrap_or_else(|| "none".into())}</td>
                                                </tr>
                                            </tbody>
                                        </table>
                                    }
                                        .into_any()
                                }
                            }}
                            {(!p.components.is_empty())
                                .then(|| {
                                    view! {
                                        <h2>"Components"</h2>
                                        <ul data-testid="components">
                                            {p.components
                                                .iter()
                                                .map(|c| {
                                                    let stacks = c.stacks.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                                                    view! {
                                                        <li>
                                                            <code>{c.path.clone()}</code>
                                                            {format!(" — {} ({stacks})", c.name)}
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    }
                                })}
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
