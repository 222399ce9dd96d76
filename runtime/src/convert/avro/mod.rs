//! Confluent's `AvroConverter`: Connect data ↔ Avro in the Confluent wire format (magic byte 0,
//! 4-byte big-endian schema id, Avro binary body), schemas kept in a schema registry.
//!
//! Byte-compatible with the Java converter (Confluent 7.x, default settings), so Debezium's
//! consumers, Confluent's deserializers and Kafka Connect sinks read our topics unchanged, and
//! we read theirs:
//! - [`to_avro`] translates Connect schemas into the exact Avro schema text `AvroData` produces;
//! - [`encode`] writes values straight from Connect data (the producer's hot path);
//! - [`from_avro`] and [`serde_decode`] (or [`decode`], for the Avro types that need
//!   apache-avro's generic values) do the reverse for records written by anyone.

mod decode;
mod default_value;
mod encode;
mod from_avro;
mod names;
mod registry_client;
mod schema_ids;
mod serde_decode;
mod settings;
mod to_avro;
mod writer_schema;

#[cfg(test)]
mod codec_tests;
#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod schema_tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::Value as Json;

use super::{ConvertError, Converter, Side};
use crate::data::{Schema, SchemaRef, Type};
use crate::record::SchemaAndValue;
use registry_client::RegistryClient;
use schema_ids::SchemaIds;
use settings::{AvroSettings, SubjectStrategy};

/// The Connect schema of an Avro schema (Confluent's `AvroData.toConnectSchema`), for `.avsc`
/// files compiled into the binary and for writer schemas. Avro → Connect → Avro gives back
/// the same schema for everything Confluent's converter writes.
pub fn connect_schema_from_avro(json: &Json) -> Result<SchemaRef, ConvertError> {
    from_avro::connect_schema_from_avro_json(json).map_err(|message| ConvertError::Deserialize {
        topic: String::new(),
        message: format!("invalid Avro schema: {message}"),
    })
}

/// The Avro schema Confluent's converter registers for a Connect schema
/// (`AvroData.fromConnectSchema`); serialize it with `serde_json::to_string` for its text.
pub fn avro_schema_from_connect(schema: &Schema) -> Result<Json, ConvertError> {
    to_avro::avro_schema_from_connect(schema).map_err(|message| ConvertError::Serialize {
        topic: String::new(),
        message: format!("no Avro equivalent: {message}"),
    })
}

/// `io.confluent.connect.avro.AvroConverter`.
pub struct AvroConverter {
    side: Side,
    settings: AvroSettings,
    registry: RegistryClient,
    ids: SchemaIds,
    /// Length of the last record written, the next one's buffer size (see `from_connect`).
    last_len: AtomicUsize,
}

/// The largest buffer a record gets before it is written: one large record must not make
/// every following small one allocate as much.
const MAX_BUFFER_HINT: usize = 64 * 1024;

impl AvroConverter {
    /// Builds the converter from its `*.converter.*` settings (prefix stripped). Does no I/O:
    /// the registry is first contacted by the first record.
    pub fn from_settings(
        side: Side,
        settings: &BTreeMap<String, String>,
        default_registry_url: Option<&str>,
    ) -> Result<AvroConverter, ConvertError> {
        let settings = AvroSettings::parse(side, settings, default_registry_url)?;
        let registry = RegistryClient::new(&settings)?;
        Ok(AvroConverter {
            side,
            settings,
            registry,
            ids: SchemaIds::default(),
            last_len: AtomicUsize::new(0),
        })
    }

    /// The registry id for `schema` on `topic`: cached, or registered (looked up) once.
    async fn schema_id(&self, topic: &str, schema: &SchemaRef) -> Result<u32, ConvertError> {
        if let Some(id) = self.ids.by_pointer(topic, schema) {
            return Ok(id);
        }
        let subject = self.subject(topic, schema)?;
        if let Some(id) = self.ids.by_structure(topic, &subject, schema) {
            return Ok(id);
        }
        let avro = avro_schema_from_connect(schema).map_err(|e| with_topic(e, topic))?;
        let text = avro.to_string();
        let id = if self.settings.auto_register {
            self.registry.register(&subject, text).await?
        } else if self.settings.use_latest_version {
            let (id, latest) = self.registry.latest(&subject).await?;
            if serde_json::from_str::<Json>(&latest).ok().as_ref() != Some(&avro) {
                return Err(ConvertError::Serialize {
                    topic: topic.to_owned(),
                    message: format!(
                        "the latest schema of subject '{subject}' differs from the record's schema \
                         (use.latest.version only supports writing with an identical schema)"
                    ),
                });
            }
            id
        } else {
            self.registry.lookup(&subject, &text).await?
        };
        self.ids.insert(topic, &subject, schema, id);
        Ok(id)
    }

    /// The registry subject, by the configured subject name strategy.
    fn subject(&self, topic: &str, schema: &Schema) -> Result<String, ConvertError> {
        let suffix = match self.side {
            Side::Key => "key",
            Side::Value => "value",
        };
        let record_name = || -> Result<String, ConvertError> {
            match (&schema.ty, schema.optional, &schema.name) {
                (Type::Struct, false, Some(name)) => Ok(name.clone()),
                (Type::Struct, false, None) => Ok(format!("{}.{}", names::NAMESPACE, names::DEFAULT_SCHEMA_NAME)),
                _ => Err(ConvertError::Serialize {
                    topic: topic.to_owned(),
                    message: format!("the {suffix} must be a (required) struct to use a record name subject strategy"),
                }),
            }
        };
        Ok(match self.settings.subject_strategy {
            SubjectStrategy::Topic => format!("{topic}-{suffix}"),
            SubjectStrategy::Record => record_name()?,
            SubjectStrategy::TopicRecord => format!("{topic}-{}", record_name()?),
        })
    }
}

#[async_trait]
impl Converter for AvroConverter {
    async fn from_connect(
        &self,
        topic: &str,
        data: &SchemaAndValue,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        if data.value.is_null() {
            return Ok(None);
        }
        let Some(schema) = &data.schema else {
            return Err(ConvertError::Serialize {
                topic: topic.to_owned(),
                message: "the Avro converter needs a schema; schemaless values are not supported"
                    .into(),
            });
        };
        let id = self.schema_id(topic, schema).await?;
        // Sized from the last record: a topic's records are mostly alike, and a fixed guess
        // either wastes memory on small keys or grows (a copy) for every larger value.
        let hint = self.last_len.load(Ordering::Relaxed).min(MAX_BUFFER_HINT);
        let mut out = Vec::with_capacity(hint + 64);
        out.push(0);
        out.extend_from_slice(&id.to_be_bytes());
        encode::encode(schema, &data.value, &mut out).map_err(|message| {
            ConvertError::Serialize {
                topic: topic.to_owned(),
                message,
            }
        })?;
        self.last_len.store(out.len(), Ordering::Relaxed);
        Ok(Some(out))
    }

    async fn to_connect(
        &self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<SchemaAndValue, ConvertError> {
        let Some(bytes) = bytes else {
            return Ok(SchemaAndValue::null());
        };
        let deserialize = |message: String| ConvertError::Deserialize {
            topic: topic.to_owned(),
            message,
        };
        let (id, body) = match bytes {
            [0, a, b, c, d, body @ ..] => (u32::from_be_bytes([*a, *b, *c, *d]), body),
            [magic, _, _, _, _, ..] => {
                return Err(deserialize(format!(
                    "unknown magic byte {magic:#04x}: not in the Confluent wire format (is the topic written by another converter?)"
                )))
            }
            short => {
                return Err(deserialize(format!(
                    "{} bytes are too short for the Confluent wire format (magic byte, 4-byte schema id, Avro body)",
                    short.len()
                )))
            }
        };
        let writer = self.registry.writer(topic, id).await?;
        let value = writer
            .to_connect(body)
            .map_err(|e| deserialize(format!("schema id {id}: {e}")))?;
        Ok(SchemaAndValue::new(writer.connect.clone(), value))
    }
}

fn with_topic(e: ConvertError, topic: &str) -> ConvertError {
    match e {
        ConvertError::Serialize { message, .. } => ConvertError::Serialize {
            topic: topic.to_owned(),
            message,
        },
        other => other,
    }
}
