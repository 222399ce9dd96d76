use thiserror::Error;

use crate::config::ConfigError;

/// What the REST API answers when a herder operation fails; each variant is one HTTP status,
/// with Kafka Connect's messages.
#[derive(Debug, Error)]
pub enum HerderError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Internal(String),
}

impl HerderError {
    pub fn connector_not_found(name: &str) -> Self {
        HerderError::NotFound(format!("Connector {name} not found"))
    }

    pub fn status_code(&self) -> u16 {
        match self {
            HerderError::NotFound(_) => 404,
            HerderError::Conflict(_) => 409,
            HerderError::BadRequest(_) => 400,
            HerderError::Internal(_) => 500,
        }
    }
}

impl From<ConfigError> for HerderError {
    fn from(e: ConfigError) -> Self {
        HerderError::BadRequest(format!("Connector configuration is invalid: {e}"))
    }
}
