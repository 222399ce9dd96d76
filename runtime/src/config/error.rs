use thiserror::Error;

/// A configuration problem, always naming the key so the user knows what to fix.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    #[error("Missing required configuration \"{key}\" which has no default value.")]
    Missing { key: String },
    #[error("Invalid value {value} for configuration {key}: {message}")]
    Invalid {
        key: String,
        value: String,
        message: String,
    },
    #[error("Unknown configuration \"{key}\"{hint}")]
    Unknown { key: String, hint: String },
    /// A message that already names its key (from a connector's own checks).
    #[error("{message}")]
    Message { key: String, message: String },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<ConfigError>),
}

impl ConfigError {
    pub fn invalid(key: &str, value: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            key: key.to_owned(),
            value: super::redact(key, value),
            message: message.into(),
        }
    }

    /// All of `errors` as one result: `Ok` when there are none, the error itself when there is
    /// one, `Several` otherwise.
    pub fn all(mut errors: Vec<ConfigError>) -> Result<(), ConfigError> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(ConfigError::Several(errors)),
        }
    }

    /// Every single error, `Several` taken apart.
    pub fn flatten(self) -> Vec<ConfigError> {
        match self {
            ConfigError::Several(all) => all.into_iter().flat_map(ConfigError::flatten).collect(),
            one => vec![one],
        }
    }

    /// The key this error is about (the first one for `Several`).
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Missing { key }
            | ConfigError::Invalid { key, .. }
            | ConfigError::Unknown { key, .. }
            | ConfigError::Message { key, .. } => Some(key),
            ConfigError::Several(errors) => errors.first().and_then(ConfigError::key),
        }
    }
}
