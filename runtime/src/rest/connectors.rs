use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value as Json_};

use super::ApiError;
use crate::config::ConfigMap;
use crate::worker::{json_object_to_config, Herder};

type ApiResult = Result<Response, ApiError>;

/// Parses a JSON body, answering 400 (not Kafka Connect's 500) to malformed JSON.
pub(super) fn parse_body(body: &Bytes) -> Result<Json_, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Request body is not valid JSON: {e}")))
}

fn config_from(json: &Json_) -> Result<ConfigMap, ApiError> {
    json_object_to_config(json).map_err(ApiError::bad_request)
}

/// Query parameters that may repeat (`?expand=status&expand=info`).
fn query_values(query: &Option<String>, key: &str) -> Vec<String> {
    query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
        .collect()
}

fn query_bool(query: &Option<String>, key: &str) -> bool {
    query_values(query, key)
        .iter()
        .any(|v| v.eq_ignore_ascii_case("true"))
}

pub(super) async fn server_info(State(h): State<Herder>) -> Json<crate::worker::ServerInfo> {
    Json(h.server_info())
}

pub(super) async fn list(State(h): State<Herder>, RawQuery(query): RawQuery) -> ApiResult {
    let expand = query_values(&query, "expand");
    let names = h.connector_names().await;
    if expand.is_empty() {
        return Ok(Json(names).into_response());
    }
    let mut out = Map::new();
    for name in names {
        let mut item = Map::new();
        // A connector deleted meanwhile is simply left out.
        if expand.iter().any(|e| e == "status") {
            if let Ok(s) = h.status(&name).await {
                item.insert("status".into(), json!(s));
            }
        }
        if expand.iter().any(|e| e == "info") {
            if let Ok(i) = h.info(&name).await {
                item.insert("info".into(), json!(i));
            }
        }
        out.insert(name, Json_::Object(item));
    }
    Ok(Json(out).into_response())
}

pub(super) async fn create(State(h): State<Herder>, body: Bytes) -> ApiResult {
    let body = parse_body(&body)?;
    let config = body
        .get("config")
        .filter(|c| !c.is_null())
        .ok_or_else(|| ApiError::bad_request("The request body must have a \"config\" object"))?;
    let mut config = config_from(config)?;
    let name = match body.get("name").and_then(Json_::as_str) {
        Some(n) => n.to_owned(),
        None => config
            .get("name")
            .cloned()
            .ok_or_else(|| ApiError::bad_request("The request body must have a \"name\""))?,
    };
    config.entry("name".into()).or_insert_with(|| name.clone());
    let info = h.create(&name, config).await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

pub(super) async fn info(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(h.info(&name).await?).into_response())
}

pub(super) async fn delete(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    h.delete(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn config(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(h.config(&name).await?).into_response())
}

pub(super) async fn put_config(
    State(h): State<Herder>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let config = config_from(&parse_body(&body)?)?;
    let (created, info) = h.put_config(&name, config).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(info)).into_response())
}

pub(super) async fn status(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(h.status(&name).await?).into_response())
}

pub(super) async fn tasks(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(h.tasks(&name).await?).into_response())
}

pub(super) async fn task_status(
    State(h): State<Herder>,
    Path((name, task)): Path<(String, String)>,
) -> ApiResult {
    let id = parse_task(&name, &task)?;
    Ok(Json(h.task_status(&name, id).await?).into_response())
}

fn parse_task(name: &str, task: &str) -> Result<u32, ApiError> {
    task.parse::<u32>().map_err(|_| ApiError {
        status: StatusCode::NOT_FOUND,
        message: format!("No status found for task {name}-{task}"),
    })
}

pub(super) async fn restart_task(
    State(h): State<Herder>,
    Path((name, task)): Path<(String, String)>,
) -> ApiResult {
    let id = parse_task(&name, &task)?;
    h.restart_task(&name, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn topics(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    let topics = h.topics(&name).await?;
    Ok(Json(json!({ name: {"topics": topics} })).into_response())
}

pub(super) async fn restart(
    State(h): State<Herder>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let include_tasks = query_bool(&query, "includeTasks");
    let only_failed = query_bool(&query, "onlyFailed");
    match h.restart(&name, include_tasks, only_failed).await? {
        None => Ok(StatusCode::NO_CONTENT.into_response()),
        Some(status) => Ok((StatusCode::ACCEPTED, Json(status)).into_response()),
    }
}

pub(super) async fn pause(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    h.pause(&name).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

pub(super) async fn resume(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    h.resume(&name).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

pub(super) async fn stop(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    h.stop(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn offsets(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(h.offsets(&name).await?).into_response())
}

pub(super) async fn alter_offsets(
    State(h): State<Herder>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(&body)?;
    Ok(Json(h.alter_offsets(&name, &body).await?).into_response())
}

pub(super) async fn reset_offsets(State(h): State<Herder>, Path(name): Path<String>) -> ApiResult {
    Ok(Json(h.reset_offsets(&name).await?).into_response())
}
