//! A Confluent Schema Registry–compatible registry built into the worker.
//!
//! Avro converters need a registry to turn schemas into the 4-byte ids of Confluent's wire
//! format. Requiring a separate Schema Registry deployment would double what Tributary asks an
//! operator to run, so the worker serves the registry API itself, on the Kafka Connect REST port,
//! and stores schemas where Confluent does: in a compacted Kafka topic (`_schemas`), in
//! Confluent's own record format. Unmodified Confluent clients work against it.
//!
//! Layout, one concept per file:
//!
//! * [`model`]: compatibility levels, version selectors, the views handed out;
//! * [`error`]: [`RegistryError`] with Confluent's error codes;
//! * `avro`: parsing, and when two schema texts are "the same schema";
//! * `compatibility`: the evolution rules per level;
//! * `log_record`: the `_schemas` record format (keys byte-compatible with Confluent);
//! * `state`: the deterministic state machine fed by log records;
//! * `kafka_log`: topic creation, producer and the follower task;
//! * `store`: [`SchemaRegistry`], the public operations and the write protocol;
//! * `api`: the REST routes ([`router`]).
//!
//! Supported: Avro schemas (no references), subjects / versions / ids with Confluent's id reuse,
//! soft and permanent deletes, global and per-subject compatibility levels, compatibility tests.
//! Mode is always READWRITE.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tributary_runtime::registry::RegistryError> {
//! use tributary_runtime::registry::{router, SchemaRegistry};
//! let registry = SchemaRegistry::in_memory();
//! let id = registry.register("orders-value", r#""string""#, false).await?;
//! assert_eq!(registry.schema_by_id(id).await?, r#""string""#);
//! let _routes: axum::Router = router(registry); // merge into the worker's REST app
//! # Ok(())
//! # }
//! ```

mod api;
mod avro;
mod compatibility;
pub mod error;
mod kafka_log;
mod log_record;
pub mod model;
mod state;
mod store;

#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod kafka_tests;

pub use api::{router, CONTENT_TYPE};
pub use error::RegistryError;
pub use model::{
    CompatibilityLevel, CompatibilityReport, SubjectVersion, SubjectVersionRef, VersionSpec,
};
pub use store::SchemaRegistry;

/// Confluent's default name for the registry topic.
pub const DEFAULT_TOPIC: &str = "_schemas";
