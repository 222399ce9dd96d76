//! HTTP tests: the real router served by axum on a real socket, called with reqwest and with a
//! Confluent client (`schema_registry_converter`). No mocked HTTP.

use std::sync::Arc;
use std::time::Duration;

use apache_avro::types::Value as AvroValue;
use reqwest::Method;
use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
use schema_registry_converter::async_impl::schema_registry::{
    get_schema_by_id, post_schema, SrSettings,
};
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedSchema,
};
use serde_json::{json, Value};

use super::{router, SchemaRegistry, CONTENT_TYPE};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type TestResult = Result<(), BoxError>;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

const USER_V1: &str = r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long"}]}"#;
const USER_V2: &str = r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}"#;
const USER_V2_NO_DEFAULT: &str = r#"{"type":"record","name":"user","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}"#;
const USER_ID_STRING: &str =
    r#"{"type":"record","name":"user","fields":[{"name":"id","type":"string"}]}"#;

/// A registry served on 127.0.0.1:<ephemeral>; the server task dies with the test runtime.
struct Server {
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start() -> Result<Self, BoxError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = router(SchemaRegistry::in_memory());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "test registry server stopped");
            }
        });
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()?;
        Ok(Self { base, client })
    }

    /// Sends a request (body as Confluent's content type) and returns status + parsed JSON.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), BoxError> {
        let (status, _, text) = self.call_raw(method, path, body, CONTENT_TYPE).await?;
        let value = serde_json::from_str(&text)
            .map_err(|e| format!("{path} answered non-JSON {text:?}: {e}"))?;
        Ok((status, value))
    }

    /// Like `call`, with the request content type chosen and the answer left as text.
    async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        content_type: &str,
    ) -> Result<(u16, String, String), BoxError> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("accept", CONTENT_TYPE);
        if let Some(body) = body {
            request = request
                .header("content-type", content_type)
                .body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let answer_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok((status, answer_type, response.text().await?))
    }

    async fn register(&self, subject: &str, schema: &str) -> Result<(u16, Value), BoxError> {
        self.call(
            Method::POST,
            &format!("/subjects/{subject}/versions"),
            Some(json!({ "schema": schema })),
        )
        .await
    }

    async fn register_ok(&self, subject: &str, schema: &str) -> Result<u64, BoxError> {
        let (status, body) = self.register(subject, schema).await?;
        if status != 200 {
            return Err(format!("registering under {subject} answered {status} {body}").into());
        }
        body["id"]
            .as_u64()
            .ok_or_else(|| format!("no id in {body}").into())
    }
}

fn assert_error(status: u16, body: &Value, code: u64) {
    assert_eq!(body["error_code"], json!(code), "body: {body}");
    assert_eq!(
        u64::from(status),
        code.to_string()[..3].parse::<u64>().unwrap_or(0),
        "body: {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
}

#[tokio::test]
async fn subjects_are_listed_sorted() -> TestResult {
    let server = Server::start().await?;
    assert_eq!(
        server.call(Method::GET, "/subjects", None).await?,
        (200, json!([]))
    );
    server.register_ok("b-value", USER_V1).await?;
    server.register_ok("a-value", USER_V1).await?;
    assert_eq!(
        server.call(Method::GET, "/subjects", None).await?,
        (200, json!(["a-value", "b-value"]))
    );
    Ok(())
}

#[tokio::test]
async fn registering_assigns_global_ids_and_growing_versions() -> TestResult {
    let server = Server::start().await?;
    assert_eq!(server.register_ok("users-value", USER_V1).await?, 1);
    assert_eq!(server.register_ok("users-value", USER_V2).await?, 2);
    assert_eq!(server.register_ok("other-value", r#""string""#).await?, 3);
    assert_eq!(
        server
            .call(Method::GET, "/subjects/users-value/versions", None)
            .await?,
        (200, json!([1, 2]))
    );
    Ok(())
}

#[tokio::test]
async fn identical_schema_gets_same_id() -> TestResult {
    let server = Server::start().await?;
    let id = server.register_ok("users-value", USER_V1).await?;
    let reformatted =
        r#"{ "fields": [ { "type": "long", "name": "id" } ], "name": "user", "type": "record" }"#;
    assert_eq!(server.register_ok("users-value", reformatted).await?, id);
    assert_eq!(
        server
            .call(Method::GET, "/subjects/users-value/versions", None)
            .await?,
        (200, json!([1]))
    );
    // The text registered first is what is kept and returned.
    let (_, body) = server
        .call(Method::GET, &format!("/schemas/ids/{id}"), None)
        .await?;
    assert_eq!(body, json!({ "schema": USER_V1 }));
    Ok(())
}

#[tokio::test]
async fn same_schema_under_another_subject_reuses_the_id() -> TestResult {
    let server = Server::start().await?;
    let id = server.register_ok("a-value", USER_V1).await?;
    assert_eq!(server.register_ok("b-value", USER_V1).await?, id);
    assert_eq!(
        server
            .call(Method::GET, &format!("/schemas/ids/{id}/subjects"), None)
            .await?,
        (200, json!(["a-value", "b-value"]))
    );
    assert_eq!(
        server
            .call(Method::GET, &format!("/schemas/ids/{id}/versions"), None)
            .await?,
        (
            200,
            json!([{"subject": "a-value", "version": 1}, {"subject": "b-value", "version": 1}])
        )
    );
    Ok(())
}

#[tokio::test]
async fn a_version_can_be_read_by_number_latest_or_minus_one() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    server.register_ok("users-value", USER_V2).await?;
    let (status, first) = server
        .call(Method::GET, "/subjects/users-value/versions/1", None)
        .await?;
    assert_eq!(status, 200);
    assert_eq!(
        first,
        json!({"subject": "users-value", "version": 1, "id": 1, "schema": USER_V1})
    );
    assert!(
        first.get("schemaType").is_none(),
        "AVRO is omitted like Confluent does"
    );
    for latest in ["latest", "-1"] {
        let (status, body) = server
            .call(
                Method::GET,
                &format!("/subjects/users-value/versions/{latest}"),
                None,
            )
            .await?;
        assert_eq!(status, 200);
        assert_eq!(body["version"], json!(2));
        assert_eq!(body["id"], json!(2));
    }
    Ok(())
}

#[tokio::test]
async fn reading_versions_reports_confluent_error_codes() -> TestResult {
    let server = Server::start().await?;
    let (status, body) = server
        .call(Method::GET, "/subjects/nope/versions", None)
        .await?;
    assert_error(status, &body, 40401);
    let (status, body) = server
        .call(Method::GET, "/subjects/nope/versions/1", None)
        .await?;
    assert_error(status, &body, 40401);
    server.register_ok("users-value", USER_V1).await?;
    let (status, body) = server
        .call(Method::GET, "/subjects/users-value/versions/7", None)
        .await?;
    assert_error(status, &body, 40402);
    for invalid in ["abc", "0", "-2", "99999999999"] {
        let (status, body) = server
            .call(
                Method::GET,
                &format!("/subjects/users-value/versions/{invalid}"),
                None,
            )
            .await?;
        assert_error(status, &body, 42202);
    }
    Ok(())
}

#[tokio::test]
async fn the_schema_endpoint_returns_the_raw_schema() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    let (status, content_type, text) = server
        .call_raw(
            Method::GET,
            "/subjects/users-value/versions/1/schema",
            None,
            CONTENT_TYPE,
        )
        .await?;
    assert_eq!(
        (status, content_type.as_str(), text.as_str()),
        (200, CONTENT_TYPE, USER_V1)
    );
    let (status, _, text) = server
        .call_raw(Method::GET, "/schemas/ids/1/schema", None, CONTENT_TYPE)
        .await?;
    assert_eq!((status, text.as_str()), (200, USER_V1));
    Ok(())
}

#[tokio::test]
async fn invalid_avro_is_rejected_with_42201() -> TestResult {
    let server = Server::start().await?;
    let (status, body) = server
        .register(
            "users-value",
            r#"{"type":"record","name":"user","fields":[{"name":"id"}]}"#,
        )
        .await?;
    assert_error(status, &body, 42201);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Invalid schema")),
        "{body}"
    );
    let (status, body) = server.register("users-value", "not json at all").await?;
    assert_error(status, &body, 42201);
    Ok(())
}

#[tokio::test]
async fn non_avro_schema_types_are_rejected_with_42201() -> TestResult {
    let server = Server::start().await?;
    let (status, body) = server
        .call(
            Method::POST,
            "/subjects/users-value/versions",
            Some(json!({"schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF"})),
        )
        .await?;
    assert_error(status, &body, 42201);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("only AVRO")),
        "{body}"
    );
    // An explicit AVRO type is fine.
    let (status, _) = server
        .call(
            Method::POST,
            "/subjects/users-value/versions",
            Some(json!({"schema": USER_V1, "schemaType": "AVRO", "references": []})),
        )
        .await?;
    assert_eq!(status, 200);
    Ok(())
}

#[tokio::test]
async fn incompatible_schema_is_rejected_with_409() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    let (status, body) = server.register("users-value", USER_V2_NO_DEFAULT).await?;
    assert_error(status, &body, 409);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "Schema being registered is incompatible with an earlier schema for subject \"users-value\", details: "
        ),
        "{message}"
    );
    assert!(message.contains("email"), "{message}");
    assert_eq!(
        server
            .call(Method::GET, "/subjects/users-value/versions", None)
            .await?,
        (200, json!([1]))
    );
    Ok(())
}

#[tokio::test]
async fn lookup_finds_the_version_holding_a_schema() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    server.register_ok("users-value", USER_V2).await?;
    let (status, body) = server
        .call(
            Method::POST,
            "/subjects/users-value",
            Some(json!({ "schema": USER_V1 })),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"subject": "users-value", "version": 1, "id": 1, "schema": USER_V1})
    );
    let (status, body) = server
        .call(
            Method::POST,
            "/subjects/nope",
            Some(json!({ "schema": USER_V1 })),
        )
        .await?;
    assert_error(status, &body, 40401);
    let (status, body) = server
        .call(
            Method::POST,
            "/subjects/users-value",
            Some(json!({ "schema": r#""string""# })),
        )
        .await?;
    assert_error(status, &body, 40403);
    Ok(())
}

#[tokio::test]
async fn schemas_are_found_by_id_and_unknown_ids_are_40403() -> TestResult {
    let server = Server::start().await?;
    let id = server.register_ok("users-value", USER_V1).await?;
    // Confluent clients add these parameters; they must not matter.
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/schemas/ids/{id}?fetchMaxId=false&subject=users-value"),
            None,
        )
        .await?;
    assert_eq!((status, body), (200, json!({ "schema": USER_V1 })));
    for path in [
        "/schemas/ids/99",
        "/schemas/ids/99/subjects",
        "/schemas/ids/99/versions",
        "/schemas/ids/x",
    ] {
        let (status, body) = server.call(Method::GET, path, None).await?;
        assert_error(status, &body, 40403);
    }
    assert_eq!(
        server.call(Method::GET, "/schemas/types", None).await?,
        (200, json!(["AVRO"]))
    );
    Ok(())
}

#[tokio::test]
async fn soft_deleted_subjects_disappear_but_their_ids_stay_resolvable() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    server.register_ok("users-value", USER_V2).await?;
    assert_eq!(
        server
            .call(Method::DELETE, "/subjects/users-value", None)
            .await?,
        (200, json!([1, 2]))
    );
    assert_eq!(
        server.call(Method::GET, "/subjects", None).await?,
        (200, json!([]))
    );
    assert_eq!(
        server
            .call(Method::GET, "/subjects?deleted=true", None)
            .await?,
        (200, json!(["users-value"]))
    );
    let (status, body) = server
        .call(Method::GET, "/subjects/users-value/versions", None)
        .await?;
    assert_error(status, &body, 40401);
    let (status, body) = server.call(Method::GET, "/schemas/ids/1", None).await?;
    assert_eq!((status, body), (200, json!({ "schema": USER_V1 })));
    let (status, body) = server
        .call(Method::DELETE, "/subjects/users-value", None)
        .await?;
    assert_error(status, &body, 40404);

    // Re-registering gives a new version and the same id.
    assert_eq!(server.register_ok("users-value", USER_V1).await?, 1);
    assert_eq!(
        server
            .call(Method::GET, "/subjects/users-value/versions", None)
            .await?,
        (200, json!([3]))
    );
    Ok(())
}

#[tokio::test]
async fn deleting_an_unknown_subject_is_40401() -> TestResult {
    let server = Server::start().await?;
    let (status, body) = server.call(Method::DELETE, "/subjects/nope", None).await?;
    assert_error(status, &body, 40401);
    let (status, body) = server
        .call(Method::DELETE, "/subjects/nope/versions/1", None)
        .await?;
    assert_error(status, &body, 40401);
    Ok(())
}

#[tokio::test]
async fn deleting_one_version_returns_its_number() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    server.register_ok("users-value", USER_V2).await?;
    assert_eq!(
        server
            .call(Method::DELETE, "/subjects/users-value/versions/1", None)
            .await?,
        (200, json!(1))
    );
    assert_eq!(
        server
            .call(Method::GET, "/subjects/users-value/versions", None)
            .await?,
        (200, json!([2]))
    );
    let (status, body) = server
        .call(Method::GET, "/subjects/users-value/versions/1", None)
        .await?;
    assert_error(status, &body, 40402);
    let (status, _) = server
        .call(
            Method::GET,
            "/subjects/users-value/versions/1?deleted=true",
            None,
        )
        .await?;
    assert_eq!(status, 200);
    let (status, body) = server
        .call(Method::DELETE, "/subjects/users-value/versions/1", None)
        .await?;
    assert_error(status, &body, 40406);
    assert_eq!(
        server
            .call(
                Method::DELETE,
                "/subjects/users-value/versions/latest",
                None
            )
            .await?,
        (200, json!(2))
    );
    Ok(())
}

#[tokio::test]
async fn permanent_delete_requires_a_soft_delete_first() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    let (status, body) = server
        .call(Method::DELETE, "/subjects/users-value?permanent=true", None)
        .await?;
    assert_error(status, &body, 40405);
    let (status, body) = server
        .call(
            Method::DELETE,
            "/subjects/users-value/versions/1?permanent=true",
            None,
        )
        .await?;
    assert_error(status, &body, 40407);
    assert_eq!(
        server
            .call(Method::DELETE, "/subjects/users-value", None)
            .await?,
        (200, json!([1]))
    );
    assert_eq!(
        server
            .call(Method::DELETE, "/subjects/users-value?permanent=true", None)
            .await?,
        (200, json!([1]))
    );
    assert_eq!(
        server
            .call(Method::GET, "/subjects?deleted=true", None)
            .await?,
        (200, json!([]))
    );
    let (status, body) = server.call(Method::GET, "/schemas/ids/1", None).await?;
    assert_error(status, &body, 40403);
    Ok(())
}

#[tokio::test]
async fn the_global_level_can_be_read_and_changed() -> TestResult {
    let server = Server::start().await?;
    assert_eq!(
        server.call(Method::GET, "/config", None).await?,
        (200, json!({"compatibilityLevel": "BACKWARD"}))
    );
    assert_eq!(
        server
            .call(
                Method::PUT,
                "/config",
                Some(json!({"compatibility": "FULL"}))
            )
            .await?,
        (200, json!({"compatibility": "FULL"}))
    );
    assert_eq!(
        server.call(Method::GET, "/config", None).await?,
        (200, json!({"compatibilityLevel": "FULL"}))
    );
    let (status, body) = server
        .call(
            Method::PUT,
            "/config",
            Some(json!({"compatibility": "SIDEWAYS"})),
        )
        .await?;
    assert_error(status, &body, 42203);
    assert_eq!(
        server.call(Method::DELETE, "/config", None).await?,
        (200, json!({"compatibilityLevel": "FULL"}))
    );
    assert_eq!(
        server.call(Method::GET, "/config", None).await?,
        (200, json!({"compatibilityLevel": "BACKWARD"}))
    );
    Ok(())
}

#[tokio::test]
async fn a_subject_level_is_40408_until_set_unless_defaulting_to_global() -> TestResult {
    let server = Server::start().await?;
    let (status, body) = server
        .call(Method::GET, "/config/users-value", None)
        .await?;
    assert_error(status, &body, 40408);
    assert_eq!(
        server
            .call(
                Method::GET,
                "/config/users-value?defaultToGlobal=true",
                None
            )
            .await?,
        (200, json!({"compatibilityLevel": "BACKWARD"}))
    );
    assert_eq!(
        server
            .call(
                Method::PUT,
                "/config/users-value",
                Some(json!({"compatibility": "none"}))
            )
            .await?,
        (200, json!({"compatibility": "NONE"}))
    );
    assert_eq!(
        server
            .call(Method::GET, "/config/users-value", None)
            .await?,
        (200, json!({"compatibilityLevel": "NONE"}))
    );
    let (status, body) = server
        .call(
            Method::PUT,
            "/config/users-value",
            Some(json!({"compatibility": ""})),
        )
        .await?;
    assert_error(status, &body, 42203);
    assert_eq!(
        server
            .call(Method::DELETE, "/config/users-value", None)
            .await?,
        (200, json!({"compatibilityLevel": "NONE"}))
    );
    let (status, body) = server
        .call(Method::DELETE, "/config/users-value", None)
        .await?;
    assert_error(status, &body, 40408);
    Ok(())
}

#[tokio::test]
async fn a_subject_level_overrides_the_global_one() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    let (status, _) = server.register("users-value", USER_ID_STRING).await?;
    assert_eq!(status, 409);
    server
        .call(
            Method::PUT,
            "/config/users-value",
            Some(json!({"compatibility": "NONE"})),
        )
        .await?;
    assert_eq!(server.register_ok("users-value", USER_ID_STRING).await?, 2);
    Ok(())
}

#[tokio::test]
async fn the_compatibility_endpoint_reports_a_verdict() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    for version in ["latest", "1"] {
        let path = format!("/compatibility/subjects/users-value/versions/{version}");
        assert_eq!(
            server
                .call(Method::POST, &path, Some(json!({ "schema": USER_V2 })))
                .await?,
            (200, json!({"is_compatible": true}))
        );
        assert_eq!(
            server
                .call(
                    Method::POST,
                    &path,
                    Some(json!({ "schema": USER_V2_NO_DEFAULT }))
                )
                .await?,
            (200, json!({"is_compatible": false}))
        );
    }
    let (status, body) = server
        .call(
            Method::POST,
            "/compatibility/subjects/users-value/versions/latest?verbose=true",
            Some(json!({ "schema": USER_V2_NO_DEFAULT })),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(body["is_compatible"], json!(false));
    assert!(
        body["messages"].as_array().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let (status, body) = server
        .call(
            Method::POST,
            "/compatibility/subjects/users-value/versions/9",
            Some(json!({ "schema": USER_V2 })),
        )
        .await?;
    assert_error(status, &body, 40402);
    let (status, body) = server
        .call(
            Method::POST,
            "/compatibility/subjects/nope/versions/latest",
            Some(json!({ "schema": USER_V2 })),
        )
        .await?;
    assert_error(status, &body, 40401);
    assert_eq!(
        server
            .call(
                Method::POST,
                "/compatibility/subjects/nope/versions",
                Some(json!({ "schema": USER_V2 })),
            )
            .await?,
        (200, json!({"is_compatible": true}))
    );
    Ok(())
}

#[tokio::test]
async fn mode_is_always_readwrite() -> TestResult {
    let server = Server::start().await?;
    assert_eq!(
        server.call(Method::GET, "/mode", None).await?,
        (200, json!({"mode": "READWRITE"}))
    );
    Ok(())
}

#[tokio::test]
async fn unknown_routes_under_registry_paths_are_404_with_error_code() -> TestResult {
    let server = Server::start().await?;
    server.register_ok("users-value", USER_V1).await?;
    for path in [
        "/subjects/users-value/nothing",
        "/subjects/users-value/versions/1/nothing",
        "/schemas/nothing",
        "/config/users-value/nothing",
        "/compatibility/nothing",
    ] {
        let (status, body) = server.call(Method::GET, path, None).await?;
        assert_error(status, &body, 404);
    }
    Ok(())
}

#[tokio::test]
async fn plain_json_requests_are_accepted_and_answers_use_the_registry_content_type() -> TestResult
{
    let server = Server::start().await?;
    let (status, content_type, body) = server
        .call_raw(
            Method::POST,
            "/subjects/users-value/versions",
            Some(json!({ "schema": USER_V1 })),
            "application/json",
        )
        .await?;
    assert_eq!((status, content_type.as_str()), (200, CONTENT_TYPE));
    assert_eq!(serde_json::from_str::<Value>(&body)?, json!({"id": 1}));
    let (status, content_type, _) = server
        .call_raw(Method::GET, "/subjects/nope/versions", None, CONTENT_TYPE)
        .await?;
    assert_eq!((status, content_type.as_str()), (404, CONTENT_TYPE));
    let (status, _, body) = server
        .call_raw(
            Method::POST,
            "/subjects/users-value/versions",
            None,
            CONTENT_TYPE,
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    Ok(())
}

#[tokio::test]
async fn a_confluent_client_registers_encodes_and_decodes() -> TestResult {
    let server = Server::start().await?;
    let settings = SrSettings::new_builder(server.base.clone())
        .no_proxy()
        .set_timeout(REQUEST_TIMEOUT)
        .build()?;
    let schema = r#"{"type":"record","name":"Heartbeat","namespace":"nl.openweb.data","fields":[{"name":"beat","type":"long"}]}"#;
    let registered = post_schema(
        &settings,
        "heartbeat-value".to_string(),
        SuppliedSchema::new(
            Some("nl.openweb.data.Heartbeat".to_string()),
            SchemaType::Avro,
            schema.to_string(),
        ),
    )
    .await?;
    assert_eq!(registered.id, 1);
    let fetched = get_schema_by_id(registered.id, &settings).await?;
    assert_eq!(fetched.schema, schema);

    let encoder = AvroEncoder::new(settings.clone());
    let bytes = encoder
        .encode(
            vec![("beat", AvroValue::Long(3))],
            SubjectNameStrategy::TopicNameStrategy("heartbeat".to_string(), false),
        )
        .await?;
    assert_eq!(bytes, vec![0, 0, 0, 0, 1, 6], "magic byte, id 1, zigzag(3)");

    let decoder = AvroDecoder::new(settings);
    let decoded = decoder.decode(Some(&bytes)).await?;
    assert_eq!(
        decoded.value,
        AvroValue::Record(vec![("beat".to_string(), AvroValue::Long(3))])
    );
    Ok(())
}

#[tokio::test]
async fn the_registry_can_be_used_directly_from_rust() -> TestResult {
    let registry: Arc<SchemaRegistry> = SchemaRegistry::in_memory();
    let id = registry.register("a-value", USER_V1, false).await?;
    assert_eq!(registry.register("a-value", USER_V1, false).await?, id);
    assert_eq!(registry.schema_by_id(id).await?, USER_V1);
    assert_eq!(registry.subjects().await, vec!["a-value".to_string()]);
    assert_eq!(registry.versions("a-value").await?, vec![1]);
    assert_eq!(
        registry
            .versions("nope")
            .await
            .err()
            .map(|e| e.error_code()),
        Some(40401)
    );
    // normalize=true stores the normalised text for a new id.
    let normalized = registry
        .register("b-value", r#"{ "type" : "string" }"#, true)
        .await?;
    assert_eq!(registry.schema_by_id(normalized).await?, r#""string""#);
    Ok(())
}

#[tokio::test]
async fn the_router_merges_into_an_app_that_has_its_own_fallback() -> TestResult {
    // The worker's REST app has its own 404 handler; axum panics when merging two routers that
    // both have a fallback, so the registry's router must not have one.
    let app = axum::Router::new()
        .route("/connectors", axum::routing::get(|| async { "[]" }))
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "connect 404") })
        .merge(router(SchemaRegistry::in_memory()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "test app stopped");
        }
    });
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .no_proxy()
        .build()?;
    let subjects = client.get(format!("{base}/subjects")).send().await?;
    assert_eq!(subjects.status().as_u16(), 200);
    assert_eq!(subjects.text().await?, "[]");
    let connectors = client.get(format!("{base}/connectors")).send().await?;
    assert_eq!(connectors.text().await?, "[]");
    let elsewhere = client.get(format!("{base}/elsewhere")).send().await?;
    assert_eq!(elsewhere.text().await?, "connect 404");
    Ok(())
}
