//! The data model every connector speaks: Kafka Connect's schema and value model.
//!
//! Debezium, the Confluent converters and every Kafka Connect sink describe records in these
//! terms (a struct of typed, optional fields whose logical meaning travels as a schema *name*
//! such as `io.debezium.time.Date`). Mirroring it exactly is what lets our Avro and JSON output
//! match theirs byte for byte and lets our sinks read their topics.

pub mod calendar;
pub mod java_text;
pub mod logical;
mod schema;
mod value;

pub use schema::{Field, Schema, SchemaBuilder, SchemaRef, Type};
pub use value::{Struct, Value};
