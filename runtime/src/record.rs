//! The record type every connector produces or consumes.

use crate::data::{SchemaRef, Value};

/// Identifies what a source reads (a database server, a file …), as Kafka Connect's
/// `sourcePartition` map: offsets are stored per source partition.
pub type SourcePartition = serde_json::Map<String, serde_json::Value>;
/// Where a source is in its partition, as Kafka Connect's `sourceOffset` map; it is what the
/// source gets back on restart, so it must say everything needed to resume exactly.
pub type SourceOffset = serde_json::Map<String, serde_json::Value>;

/// A key or a value: the data and, when the data is structured, its schema. `Value::Null`
/// with any schema is a null (a tombstone when it is a record's value).
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaAndValue {
    pub schema: Option<SchemaRef>,
    pub value: Value,
}

impl SchemaAndValue {
    pub fn new(schema: SchemaRef, value: Value) -> Self {
        SchemaAndValue {
            schema: Some(schema),
            value,
        }
    }
    pub fn null() -> Self {
        SchemaAndValue {
            schema: None,
            value: Value::Null,
        }
    }
    pub fn is_null(&self) -> bool {
        self.value.is_null()
    }
}

/// Kafka record headers: ordered, repeatable, values may be null.
pub type Headers = Vec<(String, Option<Vec<u8>>)>;

/// What a source task emits: one Kafka record plus where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRecord {
    pub source_partition: SourcePartition,
    /// Empty: the record moves no offset (Kafka Connect's null `sourceOffset`), so the stored
    /// offset stays at the last record before it that had one. A source whose offsets are
    /// costly to build gives one only to the record that ends a unit it can resume after (a
    /// binlog event, a snapshot piece) and to the last record of every `poll`.
    pub source_offset: SourceOffset,
    pub topic: String,
    /// Kafka partition to write to; `None` lets the producer's partitioner hash the key.
    pub partition: Option<i32>,
    pub key: SchemaAndValue,
    pub value: SchemaAndValue,
    /// Milliseconds since the epoch; `None` lets Kafka stamp it.
    pub timestamp: Option<i64>,
    pub headers: Headers,
}

impl SourceRecord {
    /// A position to store with nothing to publish, as Kafka Connect's KIP-910 offset updates:
    /// a source that starts from the server's current position must remember it before its
    /// first change, or a restart would start from a later "current" position and skip the
    /// changes in between. The worker stores it in order with the records around it.
    pub fn offset_only(source_partition: SourcePartition, source_offset: SourceOffset) -> Self {
        SourceRecord {
            source_partition,
            source_offset,
            topic: String::new(),
            partition: None,
            key: SchemaAndValue::null(),
            value: SchemaAndValue::null(),
            timestamp: None,
            headers: Vec::new(),
        }
    }

    /// Whether storing this record's offset moves its partition's position (see `source_offset`).
    pub fn moves_offset(&self) -> bool {
        !self.source_offset.is_empty()
    }

    /// Whether this record only carries an offset (no topic to send it to).
    pub fn is_offset_only(&self) -> bool {
        self.topic.is_empty()
    }
}

/// What a sink task receives: one consumed Kafka record, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: SchemaAndValue,
    pub value: SchemaAndValue,
    pub timestamp: Option<i64>,
    pub headers: Headers,
}
