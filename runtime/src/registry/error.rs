//! Errors of the schema registry, each carrying the numeric error code Confluent Schema Registry
//! uses for the same situation.
//!
//! Clients (Confluent serializers, `schema_registry_converter`, Debezium, kcat …) branch on these
//! codes — e.g. "40401 means register first" — so the codes are part of the wire contract, not
//! decoration. The HTTP status is always the first three digits of the code.

use rdkafka::error::KafkaError;

/// Everything that can go wrong in the registry, with Confluent's error code for it.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// 40401: the subject has no (live) version.
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),

    /// 40402: the subject exists but not this version.
    #[error("Version {version} not found.")]
    VersionNotFound {
        /// Subject that was asked for.
        subject: String,
        /// Version that was asked for, as given.
        version: String,
    },

    /// 40403: no schema with this id, or (lookup) the schema is not registered under the subject.
    #[error("{0}")]
    SchemaNotFound(String),

    /// 40404: the subject was soft-deleted already.
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),

    /// 40405: a permanent delete needs a soft delete first (Confluent's safety net against typos).
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),

    /// 40406: the version was soft-deleted already.
    #[error("Subject '{subject}' Version {version} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted {
        /// Subject of the version.
        subject: String,
        /// The version.
        version: u32,
    },

    /// 40407: a permanent delete of a version needs a soft delete first.
    #[error("Subject '{subject}' Version {version} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted {
        /// Subject of the version.
        subject: String,
        /// The version.
        version: u32,
    },

    /// 40408: `GET /config/{subject}` on a subject that has no level of its own.
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectLevelCompatibilityNotConfigured(String),

    /// 404: no such route (under the registry's path prefixes).
    #[error("HTTP 404 Not Found")]
    RouteNotFound,

    /// 400: the request body is not the JSON we expect.
    #[error("{0}")]
    BadRequest(String),

    /// 42201: not a parseable schema, or a schema type / feature this registry does not support.
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),

    /// 42202: a version that is neither a positive 32-bit integer nor `latest` / `-1`.
    #[error("The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")]
    InvalidVersion(String),

    /// 42203: an unknown compatibility level.
    #[error("Invalid compatibility level '{0}'. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")]
    InvalidCompatibilityLevel(String),

    /// 409: the schema breaks the subject's compatibility level.
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]", .details.join(", "))]
    Incompatible {
        /// Subject the schema was registered under.
        subject: String,
        /// One human-readable line per violated rule.
        details: Vec<String>,
    },

    /// 50001: Kafka (the registry's storage) failed.
    #[error("Error in the schema registry's backing Kafka topic: {context}: {source}")]
    Kafka {
        /// What the registry was doing.
        context: String,
        /// The underlying client error.
        #[source]
        source: KafkaError,
    },

    /// 50001: the backing store is inconsistent or gave up (e.g. too many lost write races).
    #[error("Error in the backend data store: {0}")]
    Store(String),

    /// 50002: a bounded wait ran out; the message says what was waited for.
    #[error("Operation timed out: {0}")]
    Timeout(String),
}

impl RegistryError {
    /// Confluent's numeric error code (the `error_code` field of error responses).
    pub fn error_code(&self) -> u32 {
        match self {
            Self::SubjectNotFound(_) => 40401,
            Self::VersionNotFound { .. } => 40402,
            Self::SchemaNotFound(_) => 40403,
            Self::SubjectSoftDeleted(_) => 40404,
            Self::SubjectNotSoftDeleted(_) => 40405,
            Self::VersionSoftDeleted { .. } => 40406,
            Self::VersionNotSoftDeleted { .. } => 40407,
            Self::SubjectLevelCompatibilityNotConfigured(_) => 40408,
            Self::RouteNotFound => 404,
            Self::BadRequest(_) => 400,
            Self::InvalidSchema(_) => 42201,
            Self::InvalidVersion(_) => 42202,
            Self::InvalidCompatibilityLevel(_) => 42203,
            Self::Incompatible { .. } => 409,
            Self::Kafka { .. } | Self::Store(_) => 50001,
            Self::Timeout(_) => 50002,
        }
    }

    /// The HTTP status: the first three digits of [`error_code`](Self::error_code), as Confluent does.
    pub fn http_status(&self) -> u16 {
        let mut code = self.error_code();
        while code >= 1000 {
            code /= 10;
        }
        code as u16
    }

    /// Wraps a Kafka client error with what we were doing when it happened.
    pub(crate) fn kafka(context: impl Into<String>, source: KafkaError) -> Self {
        Self::Kafka {
            context: context.into(),
            source,
        }
    }
}
