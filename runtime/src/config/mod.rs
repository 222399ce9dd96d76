//! Configuration definitions, declared once and used for parsing, for the REST API's
//! `config/validate` answer and for the README's reference tables (Kafka Connect's `ConfigDef`).

mod def;
mod error;
mod map;
mod secrets;

pub use def::{ConfigDef, ConfigKey, ConfigType, ConfigValue, Importance, Validator, Width};
pub use error::ConfigError;
pub use map::{keys_read_by, ConfigMap, Parsed};
pub use secrets::{is_secret_key, redact, redacted_map, REDACTED};
