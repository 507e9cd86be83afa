//! The filter bar above the grid: search, the filter menus with their counts, favorites, the
//! view switch and the export links.

use super::filters::Filters;
use crate::components::filter_select::{FilterOption, FilterSelect};
use crate::error::AppError;
use crate::models::catalog::{ProjectFacets, ProjectSort, Stack};
use leptos::prelude::*;

/// Every stack, with how many projects picking it would give.
fn stack_options(facets: Option<&ProjectFacets>) -> Vec<FilterOption> {
    let mut out = vec![FilterOption::new("", "All stacks")];
    out.extend(Stack::ALL.iter().map(|s| {
        let n = facets
            .and_then(|f| f.stacks.get(s.as_str()).copied())
            .unwrap_or(0);
        FilterOption::new(s.as_str(), format!("{} ({n})", s.as_str()))
    }));
    out
}

/// The tags in use with their counts; the chosen tag stays selectable even when nothing else
/// carries it.
fn tag_options(facets: Option<&ProjectFacets>, chosen: &str) -> Vec<FilterOption> {
    let mut tags = facets.map(|f| f.tags.clone()).unwrap_or_default();
    if !chosen.is_empty() {
        tags.entry(chosen.to_owned()).or_default();
    }
    let mut out = vec![FilterOption::new("", "Any tag")];
    out.extend(
        tags.into_iter()
            .map(|(t, n)| FilterOption::new(t.clone(), format!("{t} ({n})"))),
    );
    out
}

/// The git states; the ones a user hunts for carry counts.
fn git_options(facets: Option<&ProjectFacets>) -> Vec<FilterOption> {
    let count = |pick: fn(&ProjectFacets) -> u32| facets.map(pick).unwrap_or(0);
    vec![
        FilterOption::new("", "Any git state"),
        FilterOption::new("dirty", format!("dirty ({})", count(|f| f.dirty))),
        FilterOption::new("behind", format!("behind ({})", count(|f| f.behind))),
        FilterOption::new("ahead", "ahead"),
        FilterOption::new("clean", "clean"),
        FilterOption::new("none", "not a repository"),
    ]
}

/// Present or missing from disk.
fn status_options(facets: Option<&ProjectFacets>) -> Vec<FilterOption> {
    let missing = facets.map(|f| f.missing).unwrap_or(0);
    vec![
        FilterOption::new("", "Any status"),
        FilterOption::new("present", "present"),
        FilterOption::new("missing", format!("missing ({missing})")),
    ]
}

/// Every order; the default (by name) is the empty value, so it stays out of the URL.
fn sort_options() -> Vec<FilterOption> {
    ProjectSort::ALL
        .iter()
        .map(|s| {
            let value = if *s == ProjectSort::Name {
                ""
            } else {
                s.as_str()
            };
            FilterOption::new(value, format!("Sort: {}", s.label()))
        })
        .collect()
}

/// Search, filter menus, favorites, view switch and export links; every change goes through
/// `on_change` (which puts it in the URL).
#[component]
pub fn FilterBar(
    /// The filters in force (from the URL).
    filters: Memo<Filters>,
    /// Counts per filter value, fetched by the page.
    facets: LocalResource<Result<ProjectFacets, AppError>>,
    /// What the search box shows (it may run ahead of the URL while typing).
    search_text: RwSignal<String>,
    /// The search box, for the page's `/` key.
    search_ref: NodeRef<leptos::html::Input>,
    /// Whether the grid is the dense list.
    dense: RwSignal<bool>,
    /// Called with the filters after a change.
    on_change: Callback<Filters>,
) -> impl IntoView {
    let facts = move || facets.get().and_then(Result::ok);
    let set = move |change: &dyn Fn(&mut Filters)| {
        let mut next = filters.get_untracked();
        change(&mut next);
        on_change.run(next);
    };
    // One menu per text filter: it shows the filter's value, and a choice sets it.
    let menu = move |name: &'static str,
                     label: &'static str,
                     get: fn(&Filters) -> &str,
                     put: fn(&mut Filters, String),
                     options: Signal<Vec<FilterOption>>| {
        let value = Signal::derive(move || filters.with(|f| get(f).to_owned()));
        let on_change = Callback::new(move |v: String| set(&|f| put(f, v.clone())));
        view! { <FilterSelect name label options value on_change /> }
    };
    let stack_menu = menu(
        "stack",
        "Stack",
        |f| f.stack.as_str(),
        |f, v| f.stack = v,
        Signal::derive(move || stack_options(facts().as_ref())),
    );
    let tag_menu = menu(
        "tag",
        "Tag",
        |f| f.tag.as_str(),
        |f, v| f.tag = v,
        Signal::derive(move || tag_options(facts().as_ref(), &filters.with(|f| f.tag.clone()))),
    );
    let git_menu = menu(
        "git",
        "Git state",
        |f| f.git.as_str(),
        |f, v| f.git = v,
        Signal::derive(move || git_options(facts().as_ref())),
    );
    let status_menu = menu(
        "status",
        "Status",
        |f| f.status.as_str(),
        |f, v| f.status = v,
        Signal::derive(move || status_options(facts().as_ref())),
    );
    let sort_menu = menu(
        "sort",
        "Sort by",
        |f| f.sort.as_str(),
        |f, v| f.sort = v,
        Signal::stored(sort_options()),
    );
    view! {
        <div class="inline-form filters">
            <input
                node_ref=search_ref
                type="search"
                name="search"
                placeholder="Search projects (press /)"
                aria-label="Search projects"
                prop:value=move || search_text.get()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    search_text.set(v.clone());
                    set(&|f| f.q = v.clone())
                }
                class="grow"
            />
            {stack_menu}
            {tag_menu}
            {git_menu}
            {status_menu}
            <label class="check">
                <input
                    type="checkbox"
                    name="favorite"
                    prop:checked=move || filters.with(|f| f.favorite)
                    on:change=move |ev| {
                        let v = event_target_checked(&ev);
                        set(&|f| f.favorite = v)
                    }
                />
                {move || format!("★ ({})", facts().map(|f| f.favorites).unwrap_or(0))}
            </label>
            {sort_menu}
            <button
                class="button ghost"
                data-testid="toggle-view"
                title="Switch between cards and a dense list"
                on:click=move |_| {
                    let next = !dense.get_untracked();
                    dense.set(next);
                    crate::components::browser::store("optimus-projects-view", if next { "list" } else { "grid" });
                }
            >
                {move || if dense.get() { "Cards" } else { "List" }}
            </button>
            <a class="button ghost" data-testid="export-csv" download href=move || filters.with(|f| f.export_url("csv"))>
                "Export CSV"
            </a>
            <a class="button ghost" download href=move || filters.with(|f| f.export_url("json"))>
                "JSON"
            </a>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menus_start_with_any_and_carry_the_counts() {
        let mut facets = ProjectFacets::default();
        facets.stacks.insert("rust".into(), 3);
        facets.tags.insert("work".into(), 2);
        facets.dirty = 4;
        let stacks = stack_options(Some(&facets));
        assert_eq!(stacks[0], FilterOption::new("", "All stacks"));
        assert!(stacks.contains(&FilterOption::new("rust", "rust (3)")));
        assert_eq!(
            tag_options(Some(&facets), "gone"),
            vec![
                FilterOption::new("", "Any tag"),
                FilterOption::new("gone", "gone (0)"),
                FilterOption::new("work", "work (2)"),
            ]
        );
        assert_eq!(git_options(Some(&facets))[1].label, "dirty (4)");
        assert_eq!(status_options(None)[2].label, "missing (0)");
        assert_eq!(
            sort_options()[0].value,
            "",
            "the default order stays out of the URL"
        );
    }
}
