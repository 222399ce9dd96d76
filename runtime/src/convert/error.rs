use thiserror::Error;

/// Why a record could not be converted; sinks route these to the dead-letter queue.
#[derive(Debug, Error)]
pub enum ConvertError {
    #[error("invalid converter configuration '{key}': {message}")]
    Config { key: String, message: String },
    #[error("topic '{topic}': cannot serialize: {message}")]
    Serialize { topic: String, message: String },
    #[error("topic '{topic}': cannot deserialize: {message}")]
    Deserialize { topic: String, message: String },
    #[error("schema registry at {url}: {message}")]
    Registry {
        url: String,
        message: String,
        /// The registry could not be reached or answered with a server error: asking again
        /// later may succeed.
        retriable: bool,
    },
}

impl ConvertError {
    /// Whether the same conversion may succeed when tried again (`errors.retry.timeout`).
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            ConvertError::Registry {
                retriable: true,
                ..
            }
        )
    }
}
