use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::connectors::parse_body;
use super::ApiError;
use crate::worker::{json_object_to_config, Herder};

pub(super) async fn list(State(h): State<Herder>) -> Json<Vec<crate::worker::PluginInfo>> {
    Json(h.plugins())
}

pub(super) async fn config(
    State(h): State<Herder>,
    Path(plugin): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(h.plugin_config(&plugin)?).into_response())
}

pub(super) async fn validate(
    State(h): State<Herder>,
    Path(plugin): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let config = json_object_to_config(&parse_body(&body)?).map_err(ApiError::bad_request)?;
    Ok(Json(h.validate(&plugin, &config)?).into_response())
}
