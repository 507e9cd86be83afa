//! The Docker target's images: each release's own, built once from its Dockerfile and kept
//! while the release is; or the image a service names, pulled when the engine lacks it.

use super::{
    engine, install_key, labels, LABEL_DEPLOYMENT, LABEL_INSTALL, LABEL_PROJECT, LABEL_RELEASE,
};
use crate::server::deployments::targets::Launch;
use crate::server::AppState;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, ListImagesOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use bollard::Docker;
use futures::StreamExt;
use std::collections::HashMap;
use std::path::Path;

/// The image repository of a project's service (without the release's tag).
fn repository(state: &AppState, project_id: i64, service: &str) -> String {
    format!("optimus-{}/p{project_id}-{service}", install_key(state))
}

/// The image of one release of a service.
fn image_of(state: &AppState, project_id: i64, service: &str, release: i64) -> String {
    format!("{}:r{release}", repository(state, project_id, service))
}

/// The image the release runs: the one named, pulled when absent; else the release's own,
/// built when absent.
pub(super) async fn image(
    state: &AppState,
    docker: &Docker,
    launch: &Launch<'_>,
) -> Result<String, String> {
    let def = launch.def;
    if let Some(named) = &def.deploy.image {
        if docker.inspect_image(named).await.is_err() {
            let (repo, tag) = split_tag(named);
            let mut pull = docker.create_image(
                Some(
                    CreateImageOptionsBuilder::default()
                        .from_image(repo)
                        .tag(tag)
                        .build(),
                ),
                None,
                None,
            );
            while let Some(step) = pull.next().await {
                let step = step.map_err(|e| format!("could not pull `{named}`: {e}"))?;
                if let Some(e) = step.error_detail.and_then(|d| d.message) {
                    return Err(format!("could not pull `{named}`: {e}"));
                }
            }
        }
        return Ok(named.clone());
    }
    let tag = image_of(state, launch.project_id, &def.name, launch.release.number);
    if docker.inspect_image(&tag).await.is_ok() {
        return Ok(tag);
    }
    let context_dir = launch.folder.join(&def.cwd);
    let dockerfile = def
        .deploy
        .dockerfile
        .clone()
        .unwrap_or_else(|| "Dockerfile".into());
    if !context_dir.join(&dockerfile).is_file() {
        return Err(format!(
            "the release has no `{dockerfile}` in `{}` to build an image from",
            def.cwd
        ));
    }
    let archive = tokio::task::spawn_blocking(move || context(&context_dir))
        .await
        .map_err(|e| format!("could not pack the build context: {e}"))?
        .map_err(|e| format!("could not pack the build context: {e}"))?;
    let mut labels = labels(state, launch);
    labels.remove(LABEL_DEPLOYMENT);
    let options = BuildImageOptionsBuilder::default()
        .dockerfile(&dockerfile)
        .t(&tag)
        .rm(true)
        .forcerm(true)
        .labels(&labels)
        .build();
    let mut build = docker.build_image(options, None, Some(bollard::body_full(archive.into())));
    let mut tail: Vec<String> = Vec::new();
    while let Some(step) = build.next().await {
        let step = step.map_err(|e| format!("the image build failed: {e}"))?;
        if let Some(e) = step.error_detail.and_then(|d| d.message) {
            return Err(format!("the image build failed: {e}"));
        }
        if let Some(line) = step.stream {
            let line = line.trim_end();
            if !line.is_empty() {
                tail.push(line.to_owned());
                if tail.len() > 5 {
                    tail.remove(0);
                }
            }
        }
    }
    if docker.inspect_image(&tag).await.is_err() {
        return Err(format!(
            "the image build ended without an image; it said: {}",
            tail.join(" / ")
        ));
    }
    Ok(tag)
}

/// `repo[:tag]` (a port in the registry's host is not a tag; a digest is kept whole).
fn split_tag(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// A tar archive of a build context (symbolic links kept as links).
fn context(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    tar.append_dir_all(".", dir)?;
    tar.into_inner()
}

/// Removes the images of a project's pruned releases (those not named in `kept`); images
/// another container still uses stay. Engine trouble is logged, never an error: images are
/// caches of releases, not what a user owns.
pub async fn prune_images(state: &AppState, project_id: i64, kept: &[i64]) {
    let Ok(docker) = engine().await else { return };
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![
            format!("{LABEL_INSTALL}={}", install_key(state)),
            format!("{LABEL_PROJECT}={project_id}"),
        ],
    )]);
    let images = match docker
        .list_images(Some(
            ListImagesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
    {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "could not list release images");
            return;
        }
    };
    for image in images {
        let release = image
            .labels
            .get(LABEL_RELEASE)
            .and_then(|r| r.parse::<i64>().ok());
        if release.is_none_or(|r| kept.contains(&r)) {
            continue;
        }
        for tag in &image.repo_tags {
            if let Err(e) = docker
                .remove_image(
                    tag,
                    Some(RemoveImageOptionsBuilder::default().build()),
                    None,
                )
                .await
            {
                tracing::info!(image = %tag, error = %e, "a pruned release's image stays");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_into_repository_and_tag() {
        assert_eq!(split_tag("nginx"), ("nginx", "latest"));
        assert_eq!(split_tag("nginx:1.27"), ("nginx", "1.27"));
        assert_eq!(
            split_tag("registry:5000/app"),
            ("registry:5000/app", "latest")
        );
        assert_eq!(
            split_tag("registry:5000/app:v2"),
            ("registry:5000/app", "v2")
        );
        assert_eq!(split_tag("app@sha256:abc"), ("app@sha256:abc", ""));
    }
}
