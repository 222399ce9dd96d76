//! Converters: between Connect data and the bytes of a Kafka record, as Kafka Connect's
//! `key.converter` / `value.converter`.
//!
//! A connector's config may name Kafka Connect's converter classes unchanged
//! (`io.confluent.connect.avro.AvroConverter`, `org.apache.kafka.connect.json.JsonConverter` …)
//! with their `key.converter.*` / `value.converter.*` settings.

pub mod avro;
mod error;
pub mod header;
pub mod json;
mod simple;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

pub use error::ConvertError;
pub use simple::{ByteArrayConverter, StringConverter};

use crate::record::SchemaAndValue;

/// Serializes and deserializes one side (key or value) of Kafka records.
#[async_trait]
pub trait Converter: Send + Sync {
    /// Bytes for Kafka; `None` for a null (a tombstone value, a null key). Named as Kafka
    /// Connect's `Converter.fromConnectData`.
    #[allow(clippy::wrong_self_convention)]
    async fn from_connect(
        &self,
        topic: &str,
        data: &SchemaAndValue,
    ) -> Result<Option<Vec<u8>>, ConvertError>;

    /// Connect data from Kafka bytes; a null payload gives a null value.
    async fn to_connect(
        &self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue, ConvertError>;
}

/// Which side of the record a converter serves: Avro subjects are `<topic>-key` or
/// `<topic>-value`, and JSON/Avro settings are read from `key.converter.*` or `value.converter.*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

impl Side {
    pub fn config_prefix(self) -> &'static str {
        match self {
            Side::Key => "key.converter",
            Side::Value => "value.converter",
        }
    }
}

/// The converter kinds we implement, by every name a Kafka Connect config may use for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConverterKind {
    Avro,
    Json,
    String,
    ByteArray,
}

impl ConverterKind {
    pub fn from_class(class: &str) -> Option<ConverterKind> {
        Some(match class {
            "io.confluent.connect.avro.AvroConverter" | "avro" | "Avro" | "AvroConverter" => {
                ConverterKind::Avro
            }
            "org.apache.kafka.connect.json.JsonConverter" | "json" | "JsonConverter" => {
                ConverterKind::Json
            }
            "org.apache.kafka.connect.storage.StringConverter" | "string" | "StringConverter" => {
                ConverterKind::String
            }
            "org.apache.kafka.connect.converters.ByteArrayConverter"
            | "bytes"
            | "ByteArrayConverter" => ConverterKind::ByteArray,
            _ => return None,
        })
    }
}

/// Builds the converter for one side from a flat config map holding `<side>.converter` and its
/// `<side>.converter.*` settings (the connector's, falling back to the worker's).
pub fn build(
    side: Side,
    config: &BTreeMap<String, String>,
    default_registry_url: Option<&str>,
) -> Result<Arc<dyn Converter>, ConvertError> {
    let prefix = side.config_prefix();
    let class = config
        .get(prefix)
        .map(String::as_str)
        .unwrap_or("org.apache.kafka.connect.json.JsonConverter");
    let kind = ConverterKind::from_class(class).ok_or_else(|| ConvertError::Config {
        key: prefix.to_owned(),
        message: format!("unknown converter class '{class}'"),
    })?;
    let settings: BTreeMap<String, String> = config
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
                .map(|rest| (rest.to_owned(), v.clone()))
        })
        .collect();
    Ok(match kind {
        ConverterKind::Avro => Arc::new(avro::AvroConverter::from_settings(
            side,
            &settings,
            default_registry_url,
        )?),
        ConverterKind::Json => Arc::new(json::JsonConverter::from_settings(side, &settings)?),
        ConverterKind::String => Arc::new(StringConverter),
        ConverterKind::ByteArray => Arc::new(ByteArrayConverter),
    })
}
