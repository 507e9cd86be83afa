//! String shapes inside lists, for the API document only: utoipa cannot constrain the items of a
//! `Vec<String>` in place, so such a field names one of these as its `value_type`. Each states
//! exactly what the service accepts.

/// A tag: 1–32 letters, digits, `-`, `_` or `.` (stored lowercase; surrounding spaces ignored).
#[derive(utoipa::ToSchema)]
#[schema(pattern = r"^ *[A-Za-z0-9._-]{1,32} *$")]
pub struct TagName(pub String);

/// A persona's expertise domain: 1–32 of `a-z` and `_`.
#[derive(utoipa::ToSchema)]
#[schema(pattern = r"^[a-z_]{1,32}$")]
pub struct DomainName(pub String);

/// An option of a deliberation as the asker words it: at most 80 characters, at least one ASCII
/// letter or digit (its id is the slug of those). Written by hand: a derived newtype takes only
/// a pattern, and no pattern without lookarounds states both rules.
pub struct OptionLabel(pub String);

impl utoipa::PartialSchema for OptionLabel {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(80))
            .pattern(Some(r"[A-Za-z0-9]"))
            .into()
    }
}

impl utoipa::ToSchema for OptionLabel {}

/// A service's or environment's variables: at most 200 names of letters, digits and `_` not
/// starting with a digit (1–128), each value at most 32768 characters without a NUL.
pub fn env_vars() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Environment variables added to the user's environment: at most 200; names are \
             letters, digits and `_`, not starting with a digit (at most 128); values at most \
             32768 characters without a NUL.",
        ))
        .max_properties(Some(200))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(32768))
                .pattern(Some(r"^[^\x00]*$")),
        ))
        .build()
}

/// The facts of a deliberation: at most 30, named by 1–64 of `a-z 0-9 _`, each a text of at
/// most 500 characters, a number or a boolean.
pub fn deliberation_facts() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Facts the asker states (`team_size`, `deadline_days`, `tests`, …): at most 30, \
             named by 1–64 of `a-z 0-9 _`, each a text (at most 500 characters), a number or a \
             boolean.",
        ))
        .max_properties(Some(30))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^[a-z0-9_]{1,64}$")),
        ))
        .additional_properties(Some(utoipa::openapi::RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .max_length(Some(500)),
                )
                .item(ObjectBuilder::new().schema_type(Type::Number))
                .item(ObjectBuilder::new().schema_type(Type::Boolean))
                .build(),
        ))))
        .build()
}
