//! Who is calling and whether they may do what they ask: the identity every feature checks
//! against the operation table. Finding the caller from a request is `accounts::authenticate`.

use crate::error::AppError;
use crate::models::auth::{AuthMethod, Me};
use crate::models::{Operation, Role, Scope};

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A login session (access token from the cookie or a Bearer header).
    Session {
        /// The session row.
        session_id: i64,
    },
    /// An API token with these scopes.
    ApiToken {
        /// The token row.
        token_id: i64,
        /// What the token may do.
        scopes: Vec<Scope>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// User id.
    pub user_id: i64,
    /// Username.
    pub username: String,
    /// Current role (read from the database on every request, so a demotion applies at once).
    pub role: Role,
    /// The credential used.
    pub credential: Credential,
    /// The client's address.
    pub client_addr: Option<String>,
}

impl Caller {
    /// Checks the operation table: the role must be high enough, and a token must carry the scope.
    pub fn authorize(&self, op: Operation) -> Result<(), AppError> {
        let (role, scope) = op.requirement();
        if self.role < role {
            return Err(AppError::forbidden(format!(
                "{} requires the {role} role (you are {})",
                op.name(),
                self.role
            )));
        }
        if let Credential::ApiToken { scopes, .. } = &self.credential {
            if !scopes.iter().any(|held| held.includes(scope)) {
                return Err(AppError::forbidden(format!(
                    "{} requires a token with the `{scope}` scope",
                    op.name()
                )));
            }
        }
        Ok(())
    }

    /// The scopes in force: a token's own, or everything the role may grant for a session.
    pub fn scopes(&self) -> Vec<Scope> {
        match &self.credential {
            Credential::ApiToken { scopes, .. } => scopes.clone(),
            Credential::Session { .. } => self.role.grantable_scopes().to_vec(),
        }
    }

    /// The caller as the `auth/me` DTO.
    pub fn to_me(&self) -> Me {
        Me {
            id: self.user_id,
            username: self.username.clone(),
            role: self.role,
            method: match self.credential {
                Credential::Session { .. } => AuthMethod::Session,
                Credential::ApiToken { .. } => AuthMethod::ApiToken,
            },
            scopes: self.scopes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, credential: Credential) -> Caller {
        Caller {
            user_id: 1,
            username: "u".into(),
            role,
            credential,
            client_addr: None,
        }
    }

    #[test]
    fn every_operation_follows_the_table_for_every_role() {
        for role in Role::ALL {
            let c = caller(role, Credential::Session { session_id: 1 });
            for op in Operation::ALL {
                assert_eq!(
                    c.authorize(op).is_ok(),
                    role >= op.required_role(),
                    "{role} {op:?}"
                );
            }
        }
    }

    #[test]
    fn a_token_without_the_scope_is_refused_even_for_an_owner() {
        let c = caller(
            Role::Owner,
            Credential::ApiToken {
                token_id: 1,
                scopes: vec![Scope::Read],
            },
        );
        assert!(c.authorize(Operation::ViewSelf).is_ok());
        let err = c.authorize(Operation::CreateUser).err();
        assert!(matches!(err, Some(AppError::Forbidden { message }) if message.contains("admin")));
    }
}
