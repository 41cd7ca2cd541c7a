//! The API description, made from the code: `GET /api/v1/openapi.json`.
//!
//! Every API route is registered with utoipa-axum's `routes!`, which reads the handler's
//! `#[utoipa::path]` annotation for both the route and its description, and every request and
//! answer type derives `ToSchema`; so a route cannot exist undocumented, and a field cannot
//! change without its schema changing too. (utoipa rather than aide: its annotations sit on
//! the handler, leave the handler's signature and the router's shape as they were, and need no
//! wrapper types around axum's.) The document is put together once, when the router is built,
//! and served from memory. The integration tests validate every JSON answer they receive
//! against it (`tests/integration/support.rs`), so the description follows the code.
//!
//! The refusals an operation may answer are listed per operation by the shared types below
//! (`Unauthenticated`, `NotFound`, ...), each one status with the one JSON error schema.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi as Document, RefOr, Response, ResponseBuilder, Schema, Type,
};
use utoipa::{IntoResponses, OpenApi, PartialSchema, ToSchema};

/// The name of the session security scheme in the document.
pub const SESSION: &str = "session";

/// The body of every refusal: a machine code and a sentence for people.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A short machine-readable name (`not_found`, `invalid`, `unauthenticated`, ...).
    pub error: &'static str,
    /// What went wrong, in plain words for the person using the client.
    pub message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "folio API",
        version = "1",
        description = "The JSON API of a folio box. Paths and fields listed here are relied on by clients: new fields may be added, none are renamed or removed. Something the caller may not see answers 404, like something that does not exist. Every refusal is a JSON object {\"error\": code, \"message\": text}.",
    ),
    servers((url = "/")),
    modifiers(&Security),
    components(schemas(ErrorBody)),
    tags(
        (name = "health", description = "Is the box up, and this description"),
        (name = "setup", description = "First start"),
        (name = "session", description = "Signing in and out"),
        (name = "users", description = "People and their sign-in"),
        (name = "classes", description = "Classes and rosters"),
        (name = "work", description = "Students' work, comments and feedback"),
        (name = "activities", description = "Activities posted to a class"),
        (name = "search", description = "Search"),
        (name = "language", description = "The language answers are in: the person's, the school's"),
        (name = "uploads", description = "Resumable uploads (tus 1.0.0)"),
        (name = "peers", description = "Other boxes: pairing, sync, USB bundles"),
        (name = "family", description = "Families: invitation sheets, joining, links, what is new"),
    )
)]
struct ApiDoc;

/// The session cookie, as it really works: the cookie is the credential, and what stands in
/// for a CSRF token on the API is the origin check (a state-changing request a browser says
/// came from another site is refused before any handler), so there is no CSRF header to send.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let mut cookie = ApiKeyValue::new(crate::auth::session::COOKIE_NAME);
        cookie.description = Some(
            "The session made by POST /api/v1/login (or /login/pictures, /login/card, /setup): \
             an HttpOnly, SameSite=Lax cookie, Secure over HTTPS. The API takes no CSRF header: \
             a POST, PUT, PATCH or DELETE whose Sec-Fetch-Site (or else Origin) says it comes \
             from another site is refused with 403 cross_origin; clients that send neither \
             header (scripts, curl) are not browsers and pass."
                .into(),
        );
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(SESSION, SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
        doc.security = Some(vec![SecurityRequirement::new(SESSION, Vec::<String>::new())]);
    }
}

/// The description for the given routes, with the document's own parts.
pub fn document(api: Document) -> Document {
    ApiDoc::openapi().merge_from(api)
}

static DOCUMENT: OnceLock<String> = OnceLock::new();

/// Keeps the description made at start; the router is built once per server, and every
/// server of a process makes the same one.
pub fn keep(doc: &Document) {
    DOCUMENT.get_or_init(|| doc.to_json().expect("the API description serializes"));
}

/// The API description as served, once a router has been built in this process.
pub fn served() -> Option<&'static str> {
    DOCUMENT.get().map(String::as_str)
}

/// The API description (this document).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "health",
    security(()),
    responses((status = 200, description = "This description, OpenAPI 3.1", content_type = "application/json", body = Object)),
)]
pub async fn serve() -> impl IntoResponse {
    let body = DOCUMENT.get().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body)
}

/// The bytes of a file, a bundle or a piece of an upload: not JSON, described by its content
/// type alone.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::Custom("binary".into())))
            .into()
    }
}

impl ToSchema for Binary {}

fn refusal(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(ErrorBody::schema_ref())).build())
        .build()
        .into()
}

trait SchemaRef {
    fn schema_ref() -> RefOr<Schema>;
}

impl<T: ToSchema> SchemaRef for T {
    fn schema_ref() -> RefOr<Schema> {
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
    }
}

/// Shared refusals: each is one status answered with the JSON error, listed by name in an
/// operation's `responses(...)`.
macro_rules! refusals {
    ($($(#[$doc:meta])* $name:ident => $status:literal, $description:literal;)*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([($status.to_string(), refusal($description))])
                }
            }
        )*
    };
}

refusals! {
    /// A header or parameter folio cannot read, or a body that is not JSON.
    BadRequest => "400", "The request cannot be read: a malformed header, parameter or JSON body (bad_request).";
    Unauthenticated => "401", "No valid session: sign in first (unauthenticated).";
    BadCredentials => "401", "The username and password, pictures or card do not match (bad_credentials).";
    /// Not allowed, or sent from another website (every state-changing operation).
    Forbidden => "403", "Refused: not allowed for this person (forbidden), a wrong setup code (wrong_setup_code), or sent from another website (cross_origin).";
    NotFound => "404", "No such item, or the caller may not see it: the same answer for both (not_found).";
    Conflict => "409", "The request conflicts with what is there (conflict), or belongs on the box that holds the whole school (whole_school_only).";
    Gone => "410", "The upload expired and was removed (gone).";
    TusVersion => "412", "The client speaks another tus version than 1.0.0 (tus_version).";
    TooLarge => "413", "Over a limit: the file, the portfolio's room or the body (too_large).";
    UnsupportedMediaType => "415", "The body is not of a type this operation takes (unsupported_media_type).";
    Invalid => "422", "A value is not acceptable; the message says which (invalid).";
    Throttled => "429", "Too many tries from this address or for this account; Retry-After says how long to wait (too_many_attempts).";
    ChecksumMismatch => "460", "The finished upload does not match the checksum sent with it, and was thrown away (checksum_mismatch).";
    DiskFull => "507", "The box's disk cannot hold the file (disk_full).";
    /// Only on a box whose files are on an S3 bucket (`--blobs s3://…`).
    FilesUnavailable => "503", "The store the box keeps its files on cannot be reached; nothing was stored. Retry-After says when to try again (files_unavailable).";
    OtherBox => "502", "The other box could not be reached or answered wrongly (other_box).";
}

/// What an operation that stores the files or bundle sent to it can refuse: no session, not
/// allowed, not found, a repeated id used otherwise, over a limit, not acceptable, no room.
pub struct StoringRefusals;

impl IntoResponses for StoringRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            Unauthenticated::responses(),
            Forbidden::responses(),
            NotFound::responses(),
            Conflict::responses(),
            TooLarge::responses(),
            Invalid::responses(),
            DiskFull::responses(),
            FilesUnavailable::responses(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// What serving a stored file answers (`http::files::serve`): the file, the part a `Range`
/// asked for, "not changed" for a matching `If-None-Match`, or a `Range` outside the file.
pub struct FileBody;

impl IntoResponses for FileBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bytes = |description: &str| -> RefOr<Response> {
            ResponseBuilder::new()
                .description(description)
                .content("*/*", ContentBuilder::new().schema(Some(Binary::schema())).build())
                .build()
                .into()
        };
        let bare =
            |description: &str| -> RefOr<Response> { ResponseBuilder::new().description(description).build().into() };
        BTreeMap::from([
            ("200".to_string(), bytes("The file")),
            ("206".to_string(), bytes("The part asked for with Range")),
            ("304".to_string(), bare("Not changed since the ETag given in If-None-Match")),
            ("416".to_string(), bare("The Range is outside the file")),
        ])
        .into_iter()
        .chain(FilesUnavailable::responses())
        .collect()
    }
}

/// What an operation with a JSON body may answer because of the body alone: 400 (not JSON),
/// 415 (not sent as JSON) and 422 (JSON of the wrong shape, or a value not acceptable).
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = BadRequest::responses();
        all.extend(UnsupportedMediaType::responses());
        all.extend(Invalid::responses());
        all
    }
}

/// A box id travels as 64 hex digits (see `peers::identity`).
impl PartialSchema for crate::peers::BoxId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9a-f]{64}$"))
            .description(Some("A box's id: the SHA-256 of its certificate, in hex"))
            .into()
    }
}

impl ToSchema for crate::peers::BoxId {
    fn name() -> std::borrow::Cow<'static, str> {
        "BoxId".into()
    }
}

/// A pairing's scope, as serde writes it: `{"kind": "whole_schools"}` or
/// `{"kind": "classes", "classes": [[school_id, class_id], ...]}`.
impl PartialSchema for crate::peers::PeerScope {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder};
        let kind = |name: &str| ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name.to_string()]));
        let id = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid)))
        };
        let pair = ArrayBuilder::new()
            .prefix_items([
                Schema::from(id().description(Some("The school's id"))),
                Schema::from(id().description(Some("The class's id"))),
            ])
            .min_items(Some(2))
            .max_items(Some(2));
        let whole = ObjectBuilder::new()
            .description(Some("Every school either box holds, whole"))
            .property("kind", kind("whole_schools"))
            .required("kind");
        let classes = ObjectBuilder::new()
            .description(Some("Only these classes (with their people)"))
            .property("kind", kind("classes"))
            .required("kind")
            .property("classes", ArrayBuilder::new().items(pair))
            .required("classes");
        OneOfBuilder::new().item(whole).item(classes).into()
    }
}

impl ToSchema for crate::peers::PeerScope {
    fn name() -> std::borrow::Cow<'static, str> {
        "PeerScope".into()
    }
}
