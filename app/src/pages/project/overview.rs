//! The overview tab: detected commands, git state, components, GitHub, dependencies and the
//! timeline.

use super::dependencies::Dependencies;
use super::timeline::ActivityTimeline;
use crate::models::catalog::ProjectInfo;
use crate::AppError;
use leptos::prelude::*;

/// The project's facts, read from the page's project resource, then its dependencies and
/// timeline (each with data of its own, drawn after hydration).
#[component]
pub fn OverviewTab(
    /// The project id.
    id: i64,
    /// The page's project, reloaded when `version` changes.
    project: Resource<Result<ProjectInfo, AppError>>,
    /// Bumped when the page's data reloads.
    version: RwSignal<u32>,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                project.await.ok().map(|p| view! { <Facts p /> })
            })}
        </Transition>
        // Drawn after hydration: server-rendered, these two failed to hydrate on quick reloads
        // (tachys expected a marker node).
        <crate::components::browser::ClientOnly>
            <super::github::GitHubSection id />
            <Dependencies id version />
            <ActivityTimeline id version />
        </crate::components::browser::ClientOnly>
    }
}

/// Commands, git and components of one project.
#[component]
fn Facts(p: ProjectInfo) -> impl IntoView {
    view! {
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
}
