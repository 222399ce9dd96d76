//! The Confluent Schema Registry REST API, as axum routes.
//!
//! Paths, JSON shapes and error codes follow Confluent exactly, because the point is that
//! unmodified clients (Confluent serializers, Debezium, `schema_registry_converter`, kcat, the
//! Kafka UI tools) work against the worker. Request bodies are accepted whatever their content
//! type (`application/vnd.schemaregistry.v1+json`, `application/json`, or none); answers are
//! always `application/vnd.schemaregistry.v1+json`.
//!
//! [`router`] has no global fallback, so that it can be merged into the worker's Kafka Connect
//! REST app (axum refuses to merge two routers that both have one). Unknown paths *under the
//! registry's prefixes* still get Confluent's `{"error_code":404,…}` through catch-all routes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::{debug, warn};

use super::error::RegistryError;
use super::model::{CompatibilityLevel, VersionSpec, AVRO};
use super::store::SchemaRegistry;

/// Content type of every answer (Confluent's).
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

type Registry = State<Arc<SchemaRegistry>>;
type Params = Query<HashMap<String, String>>;
type ApiResult = Result<Response, RegistryError>;

/// All registry routes, to be merged into the worker's axum app (it is served on the Kafka
/// Connect REST port; the paths don't collide). The state is applied, so the caller can
/// `.merge()` it into any `Router<()>`.
pub fn router(registry: Arc<SchemaRegistry>) -> Router {
    Router::new()
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(get_version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_for_id))
        .route("/schemas/ids/{id}/versions", get(versions_for_id))
        .route(
            "/config",
            get(get_global_config)
                .put(put_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(get_subject_config)
                .put(put_subject_config)
                .delete(delete_subject_config),
        )
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(test_compatibility_all),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(test_compatibility_version),
        )
        .route("/mode", get(get_mode))
        .route("/mode/{subject}", get(get_mode))
        // Confluent-shaped 404s for unknown paths under our prefixes (see module docs).
        .route("/subjects/{subject}/{*rest}", any(route_not_found))
        .route("/schemas/{*rest}", any(route_not_found))
        .route("/config/{subject}/{*rest}", any(route_not_found))
        .route("/compatibility/{*rest}", any(route_not_found))
        .route("/mode/{subject}/{*rest}", any(route_not_found))
        .with_state(registry)
}

// --------------------------------------------------------------------------------------------
// Responses
// --------------------------------------------------------------------------------------------

/// Serialises `body` as the answer, with Confluent's content type.
fn reply<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw_reply(status, bytes),
        Err(e) => RegistryError::Store(format!("encoding the response: {e}")).into_response(),
    }
}

fn raw_reply(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], bytes).into_response()
}

fn ok<T: Serialize + ?Sized>(body: &T) -> ApiResult {
    Ok(reply(StatusCode::OK, body))
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            warn!(error = %self, code = self.error_code(), "schema registry request failed");
        } else {
            debug!(error = %self, code = self.error_code(), "schema registry request refused");
        }
        let body = json!({"error_code": self.error_code(), "message": self.to_string()});
        match serde_json::to_vec(&body) {
            Ok(bytes) => raw_reply(status, bytes),
            Err(_) => status.into_response(),
        }
    }
}

// --------------------------------------------------------------------------------------------
// Requests
// --------------------------------------------------------------------------------------------

/// `?name=true` (case-insensitive); anything else is false.
fn flag(params: &HashMap<String, String>, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Body of register / lookup / compatibility requests.
#[derive(Deserialize)]
struct SchemaRequest {
    schema: Option<String>,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    references: Option<Vec<serde_json::Value>>,
}

/// Parses a schema request and rejects what this registry does not support (42201).
fn schema_from_body(body: &Bytes) -> Result<String, RegistryError> {
    let request: SchemaRequest = serde_json::from_slice(body)
        .map_err(|e| RegistryError::BadRequest(format!("Unrecognized request body: {e}")))?;
    if let Some(schema_type) = &request.schema_type {
        if !schema_type.eq_ignore_ascii_case(AVRO) {
            return Err(RegistryError::InvalidSchema(format!(
                "schemaType {schema_type} is not supported: only AVRO is supported by this registry"
            )));
        }
    }
    if request.references.as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(RegistryError::InvalidSchema(
            "schema references are not supported by this registry".to_string(),
        ));
    }
    request
        .schema
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| RegistryError::InvalidSchema("Empty schema".to_string()))
}

fn parse_id(id: &str) -> Result<u32, RegistryError> {
    id.parse::<u32>()
        .map_err(|_| RegistryError::SchemaNotFound(format!("Schema {id} not found")))
}

/// Body of `PUT /config`: Confluent's field is `compatibility`; `compatibilityLevel` (what GET
/// returns) is accepted too, because people PUT back what they GET.
#[derive(Deserialize)]
struct ConfigRequest {
    #[serde(alias = "compatibilityLevel")]
    compatibility: Option<String>,
}

fn level_from_body(body: &Bytes) -> Result<CompatibilityLevel, RegistryError> {
    let request: ConfigRequest = serde_json::from_slice(body)
        .map_err(|e| RegistryError::BadRequest(format!("Unrecognized request body: {e}")))?;
    request.compatibility.unwrap_or_default().parse()
}

// --------------------------------------------------------------------------------------------
// Subjects and versions
// --------------------------------------------------------------------------------------------

async fn list_subjects(State(registry): Registry, Query(params): Params) -> ApiResult {
    let subjects = if flag(&params, "deleted") {
        registry.subjects_including_deleted().await
    } else {
        registry.subjects().await
    };
    ok(&subjects)
}

async fn list_versions(
    State(registry): Registry,
    Path(subject): Path<String>,
    Query(params): Params,
) -> ApiResult {
    let versions = if flag(&params, "deleted") {
        registry.versions_including_deleted(&subject).await?
    } else {
        registry.versions(&subject).await?
    };
    ok(&versions)
}

async fn get_version(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Params,
) -> ApiResult {
    let spec = VersionSpec::parse(&version)?;
    ok(&registry
        .version(&subject, spec, flag(&params, "deleted"))
        .await?)
}

async fn get_version_schema(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Params,
) -> ApiResult {
    let spec = VersionSpec::parse(&version)?;
    let found = registry
        .version(&subject, spec, flag(&params, "deleted"))
        .await?;
    Ok(raw_reply(StatusCode::OK, found.schema.into_bytes()))
}

async fn referenced_by(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
) -> ApiResult {
    let spec = VersionSpec::parse(&version)?;
    registry.version(&subject, spec, false).await?;
    // References are not supported, so nothing can refer to anything.
    ok(&Vec::<u32>::new())
}

async fn register(
    State(registry): Registry,
    Path(subject): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> ApiResult {
    let schema = schema_from_body(&body)?;
    let id = registry
        .register(&subject, &schema, flag(&params, "normalize"))
        .await?;
    ok(&json!({ "id": id }))
}

async fn lookup(
    State(registry): Registry,
    Path(subject): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> ApiResult {
    let schema = schema_from_body(&body)?;
    ok(&registry
        .lookup(&subject, &schema, flag(&params, "deleted"))
        .await?)
}

async fn delete_subject(
    State(registry): Registry,
    Path(subject): Path<String>,
    Query(params): Params,
) -> ApiResult {
    ok(&registry
        .delete_subject(&subject, flag(&params, "permanent"))
        .await?)
}

async fn delete_version(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Params,
) -> ApiResult {
    let spec = VersionSpec::parse(&version)?;
    ok(&registry
        .delete_version(&subject, spec, flag(&params, "permanent"))
        .await?)
}

// --------------------------------------------------------------------------------------------
// Schemas by id
// --------------------------------------------------------------------------------------------

async fn schema_types() -> ApiResult {
    ok(&[AVRO])
}

/// `GET /schemas/ids/{id}`; clients add `?fetchMaxId=false&subject=…`, which changes nothing here.
async fn schema_by_id(State(registry): Registry, Path(id): Path<String>) -> ApiResult {
    let (schema, schema_type) = registry.schema_and_type_by_id(parse_id(&id)?).await?;
    match schema_type {
        Some(schema_type) => ok(&json!({ "schemaType": schema_type, "schema": schema })),
        None => ok(&json!({ "schema": schema })),
    }
}

async fn raw_schema_by_id(State(registry): Registry, Path(id): Path<String>) -> ApiResult {
    let schema = registry.schema_by_id(parse_id(&id)?).await?;
    Ok(raw_reply(StatusCode::OK, schema.into_bytes()))
}

async fn subjects_for_id(
    State(registry): Registry,
    Path(id): Path<String>,
    Query(params): Params,
) -> ApiResult {
    ok(&registry
        .subjects_for_id(parse_id(&id)?, flag(&params, "deleted"))
        .await?)
}

async fn versions_for_id(
    State(registry): Registry,
    Path(id): Path<String>,
    Query(params): Params,
) -> ApiResult {
    ok(&registry
        .versions_for_id(parse_id(&id)?, flag(&params, "deleted"))
        .await?)
}

// --------------------------------------------------------------------------------------------
// Compatibility configuration and checks
// --------------------------------------------------------------------------------------------

async fn get_global_config(State(registry): Registry) -> ApiResult {
    ok(&json!({ "compatibilityLevel": registry.global_compatibility().await }))
}

async fn put_global_config(State(registry): Registry, body: Bytes) -> ApiResult {
    let level = level_from_body(&body)?;
    registry.set_global_compatibility(level).await?;
    ok(&json!({ "compatibility": level }))
}

async fn delete_global_config(State(registry): Registry) -> ApiResult {
    let previous = registry.delete_global_compatibility().await?;
    ok(&json!({ "compatibilityLevel": previous }))
}

async fn get_subject_config(
    State(registry): Registry,
    Path(subject): Path<String>,
    Query(params): Params,
) -> ApiResult {
    let level = match registry.subject_compatibility(&subject).await {
        Some(level) => level,
        None if flag(&params, "defaultToGlobal") => registry.global_compatibility().await,
        None => {
            return Err(RegistryError::SubjectLevelCompatibilityNotConfigured(
                subject,
            ))
        }
    };
    ok(&json!({ "compatibilityLevel": level }))
}

async fn put_subject_config(
    State(registry): Registry,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let level = level_from_body(&body)?;
    registry.set_subject_compatibility(&subject, level).await?;
    ok(&json!({ "compatibility": level }))
}

async fn delete_subject_config(
    State(registry): Registry,
    Path(subject): Path<String>,
) -> ApiResult {
    let previous = registry.delete_subject_compatibility(&subject).await?;
    ok(&json!({ "compatibilityLevel": previous }))
}

async fn test_compatibility_all(
    State(registry): Registry,
    Path(subject): Path<String>,
    Query(params): Params,
    body: Bytes,
) -> ApiResult {
    compatibility_answer(&registry, &subject, None, &params, &body).await
}

async fn test_compatibility_version(
    State(registry): Registry,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Params,
    body: Bytes,
) -> ApiResult {
    let spec = VersionSpec::parse(&version)?;
    compatibility_answer(&registry, &subject, Some(spec), &params, &body).await
}

async fn compatibility_answer(
    registry: &SchemaRegistry,
    subject: &str,
    version: Option<VersionSpec>,
    params: &HashMap<String, String>,
    body: &Bytes,
) -> ApiResult {
    let schema = schema_from_body(body)?;
    let report = registry
        .test_compatibility(subject, version, &schema)
        .await?;
    if flag(params, "verbose") {
        ok(&json!({ "is_compatible": report.is_compatible, "messages": report.messages }))
    } else {
        ok(&json!({ "is_compatible": report.is_compatible }))
    }
}

/// Mode is always READWRITE (no import / read-only modes); some clients ask before writing.
async fn get_mode() -> ApiResult {
    ok(&json!({ "mode": "READWRITE" }))
}

async fn route_not_found() -> RegistryError {
    RegistryError::RouteNotFound
}
