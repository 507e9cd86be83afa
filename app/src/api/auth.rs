//! `/api/v1/auth/*`: setup, login, refresh, logout, identity.

use crate::models::auth::{
    ChangePasswordRequest, Credentials, LoginResponse, Me, RefreshRequest, SetupStatus,
};

endpoint! {
    /// Whether first-run setup is still open
    "auth/status", public, |state, _|
    pub async fn get_setup_status() -> SetupStatus {
        use crate::server::accounts::auth;
        Ok(auth::status(&state).await?)
    }
}

endpoint! {
    /// Create the owner account (only while no user exists; 409 after)
    ///
    /// Creates the owner account while no user exists (409 afterwards) and signs them in.
    "auth/setup", public, |state, ctx|
    pub async fn setup_owner(credentials: Credentials) -> LoginResponse {
        use crate::server::{accounts::auth, set_cookies};
        let issued = auth::setup(&state, &ctx, credentials).await?;
        set_cookies(&issued.cookies);
        Ok(issued.response)
    }
}

endpoint! {
    /// Sign in; returns an access token and sets session cookies
    ///
    /// Signs in: sets the session cookies and returns the access token for API clients.
    "auth/login", public, |state, ctx|
    pub async fn login(credentials: Credentials) -> LoginResponse {
        use crate::server::{accounts::auth, set_cookies};
        let issued = auth::login(&state, &ctx, credentials).await?;
        set_cookies(&issued.cookies);
        Ok(issued.response)
    }
}

endpoint! {
    /// Exchange a refresh token for a new pair (single use)
    ///
    /// Exchanges a refresh token (body or cookie) for a new access and refresh token.
    "auth/refresh", public, |state, ctx|
    pub async fn refresh_session(request: RefreshRequest) -> LoginResponse {
        use crate::server::{accounts::auth, set_cookies};
        let issued = auth::refresh(&state, &ctx, request).await?;
        set_cookies(&issued.cookies);
        Ok(issued.response)
    }
}

endpoint! {
    /// End the current session
    ///
    /// Ends the current session and clears its cookies.
    "auth/logout", requires Logout, |state, caller|
    pub async fn logout() -> () {
        use crate::server::{accounts::auth, set_cookies};
        let cleared = auth::logout(&state, &caller).await?;
        set_cookies(&cleared);
        Ok(())
    }
}

endpoint! {
    /// The caller's identity, role and scopes
    ///
    /// Who the caller is.
    "auth/me", requires ViewSelf, |_, caller|
    pub async fn current_user() -> Me {
        Ok(caller.to_me())
    }
}

endpoint! {
    /// Change your password (ends your other sessions)
    ///
    /// Changes the caller's password; every other session of theirs ends, the one making the
    /// change stays signed in.
    "auth/change_password", requires ChangeOwnPassword, |state, caller|
    pub async fn change_password(request: ChangePasswordRequest) -> () {
        use crate::server::accounts::auth;
        Ok(auth::change_password(&state, &caller, request).await?)
    }
}
