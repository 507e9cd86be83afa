//! `/api/v1/deployments/*`: a project's releases and deployments.

use crate::models::deployments::{
    DeployRequest, DeploymentInfo, DeploymentRequest, PinReleaseRequest, ProjectDeploymentsRequest,
    RecentDeploymentsRequest, ReleaseDiff, ReleaseDiffRequest, ReleaseInfo, RollbackRequest,
};

endpoint! {
    /// Deploy a project
    ///
    /// Makes a new release of the project's files (as git sees them), or of a succeeded
    /// pipeline run's artifacts (`pipeline_run_id`), or takes kept release `release`, and
    /// queues its deployment: each service starts beside the serving one (blue-green) or in its
    /// place (recreate), traffic switches once it is ready, and a failure in the watch window
    /// rolls back automatically. Follow it with `deployments/get`.
    "deployments/deploy", requires Deploy, |state, caller|
    pub async fn deploy(request: DeployRequest) -> DeploymentInfo {
        use crate::server::deployments;
        Ok(deployments::deploy(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Roll a project back
    ///
    /// Deploys kept release `release` again (default: the one before the current one), without
    /// rebuilding; recorded with the deployment it rolled back (`rollback_of`).
    "deployments/rollback", requires Deploy, |state, caller|
    pub async fn rollback(request: RollbackRequest) -> DeploymentInfo {
        use crate::server::deployments;
        Ok(deployments::rollback(&state, &caller, request).await?)
    }
}

endpoint! {
    /// One deployment with its steps
    "deployments/get", requires ReadDeployments, |state, caller|
    pub async fn get_deployment(request: DeploymentRequest) -> DeploymentInfo {
        use crate::server::deployments;
        Ok(deployments::get(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// A project's deployments, newest first (rollbacks included)
    "deployments/list", requires ReadDeployments, |state, caller|
    pub async fn list_deployments(request: ProjectDeploymentsRequest) -> Vec<DeploymentInfo> {
        use crate::server::deployments;
        Ok(deployments::list(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// The latest deployments of every project, newest first
    "deployments/recent", requires ReadDeployments, |state, caller|
    pub async fn recent_deployments(request: RecentDeploymentsRequest) -> Vec<DeploymentInfo> {
        use crate::server::deployments;
        Ok(deployments::recent(&state, &caller, request.limit).await?)
    }
}

endpoint! {
    /// A project's releases, newest first
    "deployments/releases", requires ReadDeployments, |state, caller|
    pub async fn list_releases(request: ProjectDeploymentsRequest) -> Vec<ReleaseInfo> {
        use crate::server::deployments;
        Ok(deployments::list_releases(&state, &caller, request.project_id).await?)
    }
}

endpoint! {
    /// Pin or unpin a release
    ///
    /// A pinned release is kept whatever the retention (`keep_releases`).
    "deployments/pin", requires Deploy, |state, caller|
    pub async fn pin_release(request: PinReleaseRequest) -> ReleaseInfo {
        use crate::server::deployments;
        Ok(deployments::pin(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Compare two releases
    ///
    /// Commits between them, services added, removed or changed (which fields), and which
    /// environment keys were added, removed or changed (never their values).
    "deployments/diff", requires ReadDeployments, |state, caller|
    pub async fn diff_releases(request: ReleaseDiffRequest) -> ReleaseDiff {
        use crate::server::deployments;
        Ok(deployments::diff(&state, &caller, request).await?)
    }
}
