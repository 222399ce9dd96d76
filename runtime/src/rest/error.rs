use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::worker::HerderError;

/// `{"error_code": <status>, "message": "…"}`, Kafka Connect's error body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        ApiError {
            status: StatusCode::from_u16(e.status_code())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error_code": self.status.as_u16(), "message": self.message});
        (self.status, Json(body)).into_response()
    }
}
