//! One declaration per endpoint. `endpoint!` takes the path, who may call it, the request and
//! response types and the body, and from that one place follows:
//! - the `#[server]` function at `/api/v1/<path>` (browser and server alike);
//! - the authorisation at its entry: the caller is authenticated and the declared operation
//!   checked (role and token scope) before the body runs; services check again for themselves;
//! - on the server, a [`Declared`] entry that the OpenAPI document and the API guard's body
//!   rules are built from (`server/src/openapi.rs`).
//!
//! ```ignore
//! endpoint! {
//!     /// Revoke one of your API tokens
//!     "tokens/revoke", requires RevokeToken, |state, caller|
//!     pub async fn revoke_token(request: IdRequest) -> TokenInfo {
//!         use crate::server::accounts::tokens;
//!         Ok(tokens::revoke(&state, &caller, request.id).await?)
//!     }
//! }
//! ```
//! Public endpoints say `public, |state, ctx|` instead. The first doc line is the summary.

/// Declares one `/api/v1` endpoint; see the module documentation.
macro_rules! endpoint {
    // Front: who may call it, then the argument list, then the response.
    (
        $(#[doc = $doc:literal])+
        $path:literal, requires $op:ident, |$state:pat_param, $caller:pat_param|
        pub async fn $name:ident($($args:tt)*) -> $($rest:tt)+
    ) => {
        endpoint!(@args [$($doc)+] $path [Op(crate::models::Operation::$op)]
            [let ($state, _, $caller) = crate::server::accounts::api_caller_for(
                crate::models::Operation::$op).await?;]
            $name ($($args)*) -> $($rest)+);
    };
    (
        $(#[doc = $doc:literal])+
        $path:literal, public, |$state:pat_param, $ctx:pat_param|
        pub async fn $name:ident($($args:tt)*) -> $($rest:tt)+
    ) => {
        endpoint!(@args [$($doc)+] $path [Public]
            [let ($state, $ctx) = crate::server::context::api_context()?;]
            $name ($($args)*) -> $($rest)+);
    };
    (@args $docs:tt $path:literal $access:tt $prelude:tt $name:ident () -> $($rest:tt)+) => {
        endpoint!(@resp $docs $path $access $prelude $name [] [None] -> $($rest)+);
    };
    (@args $docs:tt $path:literal $access:tt $prelude:tt
        $name:ident ($arg:ident : $req:ty $(,)?) -> $($rest:tt)+) => {
        endpoint!(@resp $docs $path $access $prelude $name
            [#[server(flatten)] $arg: $req] [Some(crate::api::endpoint::schema::<$req>)]
            -> $($rest)+);
    };
    (@resp $docs:tt $path:literal $access:tt $prelude:tt $name:ident $params:tt $request:tt
        -> () $body:block) => {
        endpoint!(@emit $docs $path $access $prelude $name $params $request [()] [None] $body);
    };
    (@resp $docs:tt $path:literal $access:tt $prelude:tt $name:ident $params:tt $request:tt
        -> $resp:ty $body:block) => {
        endpoint!(@emit $docs $path $access $prelude $name $params $request [$resp]
            [Some(crate::api::endpoint::schema::<$resp>)] $body);
    };
    (@emit [$($doc:literal)+] $path:literal [$($access:tt)+] [$($prelude:tt)*] $name:ident
        [$($params:tt)*] [$request:expr] [$resp:ty] [$response:expr] $body:block) => {
        $(#[doc = $doc])+
        #[leptos::server(prefix = "/api/v1", endpoint = $path,
            input = leptos::server_fn::codec::Json, output = leptos::server_fn::codec::Json)]
        pub async fn $name($($params)*) -> Result<$resp, crate::error::AppError> {
            $($prelude)*
            $body
        }

        #[cfg(feature = "ssr")]
        inventory::submit! {
            crate::api::endpoint::Declared {
                path: $path,
                function: stringify!($name),
                docs: &[$($doc),+],
                access: crate::api::endpoint::Access::$($access)+,
                request: $request,
                response: $response,
            }
        }
    };
}

#[cfg(feature = "ssr")]
pub use declared::*;

#[cfg(feature = "ssr")]
mod declared {
    use crate::models::Operation;
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::ToSchema;

    /// Who may call an endpoint.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Access {
        /// Anyone (setup, login, refresh, status).
        Public,
        /// A caller allowed the operation (its role and, for an API token, its scope).
        Op(Operation),
    }

    /// A request or response type: its schema name, schema and the schemas it refers to.
    #[derive(Clone)]
    pub struct BodySchema {
        /// The component name (`CreateTokenRequest`, `Page_TokenInfo`).
        pub name: String,
        /// The type's own schema.
        pub schema: RefOr<Schema>,
        /// Schemas it refers to, by name.
        pub deps: Vec<(String, RefOr<Schema>)>,
    }

    /// The schema of `T`.
    pub fn schema<T: ToSchema>() -> BodySchema {
        let mut deps = Vec::new();
        T::schemas(&mut deps);
        BodySchema {
            name: component_name(std::any::type_name::<T>()),
            schema: T::schema(),
            deps,
        }
    }

    /// A component name for a Rust type name, generic arguments included: utoipa names every
    /// `Page<T>` just `Page`, so one endpoint's page would describe every other's.
    /// `app::models::page::Page<app::models::users::UserInfo>` → `Page_UserInfo`.
    pub fn component_name(type_name: &str) -> String {
        let mut out = String::new();
        let mut word = String::new();
        for c in type_name.chars().chain(std::iter::once('>')) {
            match c {
                '<' | ',' | '>' | ' ' => {
                    let last = word.rsplit("::").next().unwrap_or_default().to_owned();
                    if !last.is_empty() {
                        if !out.is_empty() {
                            out.push('_');
                        }
                        out.push_str(&last);
                    }
                    word.clear();
                }
                _ => word.push(c),
            }
        }
        out
    }

    /// One declared endpoint, as `endpoint!` registered it.
    pub struct Declared {
        /// Path under `/api/v1/`.
        pub path: &'static str,
        /// The server function's name.
        pub function: &'static str,
        /// Its doc comment, a line each: the first is the summary.
        pub docs: &'static [&'static str],
        /// Who may call it.
        pub access: Access,
        /// The request body's type; `None` for an endpoint that takes no fields.
        pub request: Option<fn() -> BodySchema>,
        /// The response's type; `None` for one that answers JSON `null`.
        pub response: Option<fn() -> BodySchema>,
    }

    impl Declared {
        /// The one-line summary.
        pub fn summary(&self) -> &'static str {
            self.docs.first().map(|d| d.trim()).unwrap_or_default()
        }

        /// The rest of the doc comment, as one paragraph.
        pub fn description(&self) -> String {
            let rest: Vec<&str> = self.docs.iter().skip(1).map(|d| d.trim()).collect();
            rest.join(" ").trim().to_owned()
        }
    }

    inventory::collect!(Declared);

    /// Every declared endpoint, sorted by path.
    pub fn declared() -> Vec<&'static Declared> {
        let mut all: Vec<&'static Declared> = inventory::iter::<Declared>.into_iter().collect();
        all.sort_by_key(|d| d.path);
        all
    }
}
