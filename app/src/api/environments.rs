//! `/api/v1/environments/*`: per-project environments and variables, `.env` import and export.

use crate::models::environments::{
    CreateEnvironmentRequest, DeleteVarRequest, DotenvExport, DotenvImported, EnvironmentInfo,
    EnvironmentRequest, EnvironmentsRequest, ImportDotenvRequest, SetVarRequest,
};

endpoint! {
    /// A project's environments and variables (secrets masked unless revealed)
    ///
    /// A project's environments and variables (secret values masked unless `reveal` is allowed).
    "environments/list", requires ReadEnvironments, |state, caller|
    pub async fn list_environments(request: EnvironmentsRequest) -> Vec<EnvironmentInfo> {
        use crate::server::environments;
        Ok(environments::list(&state, &caller, request.project_id, request.reveal).await?)
    }
}

endpoint! {
    /// Add an environment
    ///
    /// Adds an environment (the project's first becomes active).
    "environments/create", requires EditEnvironments, |state, caller|
    pub async fn create_environment(request: CreateEnvironmentRequest) -> Vec<EnvironmentInfo> {
        use crate::server::environments;
        Ok(environments::create(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Remove an environment
    ///
    /// Removes an environment and its variables.
    "environments/delete", requires EditEnvironments, |state, caller|
    pub async fn delete_environment(request: EnvironmentRequest) -> () {
        use crate::server::environments;
        Ok(environments::delete(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Make an environment the one services get
    ///
    /// Makes an environment the one services get (on their next start or restart).
    "environments/activate", requires EditEnvironments, |state, caller|
    pub async fn activate_environment(request: EnvironmentRequest) -> Vec<EnvironmentInfo> {
        use crate::server::environments;
        Ok(environments::activate(&state, &caller, request.id).await?)
    }
}

endpoint! {
    /// Set a variable (secret values encrypted)
    ///
    /// Sets a variable (secret values are encrypted and masked).
    "environments/set_var", requires EditEnvironments, |state, caller|
    pub async fn set_env_var(request: SetVarRequest) -> Vec<EnvironmentInfo> {
        use crate::server::environments;
        Ok(environments::set_var(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Remove a variable
    "environments/delete_var", requires EditEnvironments, |state, caller|
    pub async fn delete_env_var(request: DeleteVarRequest) -> Vec<EnvironmentInfo> {
        use crate::server::environments;
        Ok(environments::delete_var(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Import a .env file (read only) or text
    ///
    /// Imports a `.env` file from the project folder (never changed) or `.env` text.
    "environments/import_dotenv", requires EditEnvironments, |state, caller|
    pub async fn import_dotenv(request: ImportDotenvRequest) -> DotenvImported {
        use crate::server::environments;
        Ok(environments::import_dotenv(&state, &caller, request).await?)
    }
}

endpoint! {
    /// The environment as .env text
    ///
    /// The environment as `.env` text (secret values only for callers who may read secrets).
    "environments/export_dotenv", requires ReadEnvironments, |state, caller|
    pub async fn export_dotenv(request: EnvironmentRequest) -> DotenvExport {
        use crate::server::environments;
        Ok(environments::export_dotenv(&state, &caller, request.id).await?)
    }
}
