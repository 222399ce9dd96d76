//! Kafka Connect's REST API: same paths, JSON shapes and status codes, so that existing tools
//! and scripts (curl recipes, kcctl, Terraform providers, UIs) drive Tributary unchanged.
//!
//! Deliberate differences: a malformed JSON body or a `POST /connectors` body without `config`
//! answers 400 with a precise message, where Kafka Connect answers 500.

mod connectors;
mod error;
mod plugins;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};

pub use error::ApiError;

use crate::worker::Herder;

/// Every Kafka Connect route, with the herder as state.
pub fn router(herder: Herder) -> Router {
    Router::new()
        .route("/", get(connectors::server_info))
        .route(
            "/connectors",
            get(connectors::list).post(connectors::create),
        )
        .route(
            "/connectors/{name}",
            get(connectors::info).delete(connectors::delete),
        )
        .route(
            "/connectors/{name}/config",
            get(connectors::config).put(connectors::put_config),
        )
        .route("/connectors/{name}/status", get(connectors::status))
        .route("/connectors/{name}/tasks", get(connectors::tasks))
        .route(
            "/connectors/{name}/tasks/{task}/status",
            get(connectors::task_status),
        )
        .route(
            "/connectors/{name}/tasks/{task}/restart",
            post(connectors::restart_task),
        )
        .route("/connectors/{name}/topics", get(connectors::topics))
        .route("/connectors/{name}/restart", post(connectors::restart))
        .route("/connectors/{name}/pause", put(connectors::pause))
        .route("/connectors/{name}/resume", put(connectors::resume))
        .route("/connectors/{name}/stop", put(connectors::stop))
        .route(
            "/connectors/{name}/offsets",
            get(connectors::offsets)
                .patch(connectors::alter_offsets)
                .delete(connectors::reset_offsets),
        )
        .route("/connector-plugins", get(plugins::list))
        .route("/connector-plugins/{plugin}/config", get(plugins::config))
        .route(
            "/connector-plugins/{plugin}/config/validate",
            put(plugins::validate),
        )
        .with_state(herder)
}

/// Kafka Connect's answer to an unknown path.
pub async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error_code": 404, "message": "HTTP 404 Not Found"})),
    )
}
