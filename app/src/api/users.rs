//! `/api/v1/users/*`: user management (admins and owners).

use crate::models::page::{Page, PageRequest};
use crate::models::tokens::IdRequest;
use crate::models::users::{CreateUserRequest, UpdateRoleRequest, UserInfo};

endpoint! {
    /// List users
    ///
    /// Lists users by id.
    "users/list", requires ListUsers, |state, caller|
    pub async fn list_users(page: PageRequest) -> Page<UserInfo> {
        use crate::server::accounts::users;
        Ok(users::list(&state, &caller, page).await?)
    }
}

endpoint! {
    /// Create a user
    "users/create", requires CreateUser, |state, caller|
    pub async fn create_user(request: CreateUserRequest) -> UserInfo {
        use crate::server::accounts::users;
        Ok(users::create(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Change a user's role
    "users/update_role", requires ChangeUserRole, |state, caller|
    pub async fn update_user_role(request: UpdateRoleRequest) -> UserInfo {
        use crate::server::accounts::users;
        Ok(users::update_role(&state, &caller, request).await?)
    }
}

endpoint! {
    /// Delete a user
    ///
    /// Deletes a user and ends their sessions and tokens.
    "users/delete", requires DeleteUser, |state, caller|
    pub async fn delete_user(request: IdRequest) -> () {
        use crate::server::accounts::users;
        Ok(users::delete(&state, &caller, request.id).await?)
    }
}
