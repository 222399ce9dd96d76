//! Tributary's runtime: everything between a connector and Kafka.
//!
//! Connectors (in the `tributary-connectors` crate) speak only the types of [`data`] and
//! [`record`] and implement the traits of [`connector`]. The runtime turns their records into
//! bytes ([`convert`]), moves them to and from Kafka ([`worker`]), keeps their offsets
//! ([`offsets`]), serves the Kafka Connect REST API ([`rest`]) and the built-in schema registry
//! ([`registry`]). It knows nothing of any database: what a source's `source` block or
//! schema-change records hold is its connector's business ([`schemas`] keeps only what every
//! envelope shares).

pub mod config;
pub mod connector;
pub mod convert;
pub mod data;
pub mod envelope;
pub mod kafka;
pub mod offsets;
pub mod processor;
pub mod record;
pub mod registry;
pub mod rest;
pub mod schemas;
pub mod worker;
