use thiserror::Error;

use crate::config::ConfigError;

/// Why a task stopped or a call failed. `Retriable` errors are retried by the runner with
/// backoff (a database restarting); anything else fails the task, and its message becomes the
/// `trace` of the task's status.
#[derive(Debug, Error)]
pub enum TaskError {
    #[error("{0}")]
    Retriable(String),
    #[error("{0}")]
    Fatal(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl TaskError {
    pub fn fatal(message: impl Into<String>) -> Self {
        TaskError::Fatal(message.into())
    }
    pub fn retriable(message: impl Into<String>) -> Self {
        TaskError::Retriable(message.into())
    }
    pub fn is_retriable(&self) -> bool {
        matches!(self, TaskError::Retriable(_))
    }
}
