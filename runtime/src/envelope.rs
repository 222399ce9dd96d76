//! Debezium's change-event envelope: `before`, `after`, `source`, `transaction`, `op`,
//! `ts_ms`/`ts_us`/`ts_ns`, with Debezium's schema naming, so that existing Debezium readers
//! (Flink's `debezium-avro-confluent`, ClickHouse, Materialize …) read our topics unchanged.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::data::{SchemaBuilder, SchemaRef, Struct, Value};
use crate::record::{SchemaAndValue, SourceRecord};
use crate::schemas;

/// The kind of change, with Debezium's one-letter codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Delete,
    /// A row read by a snapshot.
    Read,
    Truncate,
}

impl Op {
    pub fn code(self) -> &'static str {
        match self {
            Op::Create => "c",
            Op::Update => "u",
            Op::Delete => "d",
            Op::Read => "r",
            Op::Truncate => "t",
        }
    }

    pub fn from_code(code: &str) -> Option<Op> {
        Some(match code {
            "c" => Op::Create,
            "u" => Op::Update,
            "d" => Op::Delete,
            "r" => Op::Read,
            "t" => Op::Truncate,
            _ => return None,
        })
    }
}

/// Processing time of an event in ms, µs and ns since the epoch (`ts_ms`, `ts_us`, `ts_ns`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventTime {
    pub nanos: i64,
}

impl EventTime {
    pub fn now() -> EventTime {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        EventTime { nanos }
    }
    pub fn millis(self) -> i64 {
        self.nanos / 1_000_000
    }
    pub fn micros(self) -> i64 {
        self.nanos / 1_000
    }
}

/// The key, row and envelope schemas of one table (one version of it).
#[derive(Clone, Debug)]
pub struct TableSchemas {
    /// `<base>.Key`: the primary-key columns; `None` for a table without a primary key.
    pub key: Option<SchemaRef>,
    /// `<base>.Value`: every captured column.
    pub row: SchemaRef,
    /// `<base>.Envelope`.
    pub envelope: SchemaRef,
}

impl TableSchemas {
    /// Builds the envelope around a table's row schema. `base` is Debezium's
    /// `<topic.prefix>.<db>.<table>`; `key_fields` and `row_fields` are (column, schema) pairs,
    /// and `source` is the connector's source-block schema.
    pub fn new(
        base: &str,
        key_fields: &[(String, SchemaRef)],
        row_fields: &[(String, SchemaRef)],
        source: SchemaRef,
    ) -> TableSchemas {
        let key = (!key_fields.is_empty()).then(|| {
            key_fields
                .iter()
                .fold(
                    SchemaBuilder::structure().name(format!("{base}.Key")),
                    |b, (name, schema)| b.field(name.clone(), schema.clone()),
                )
                .build_ref()
        });
        let row = row_fields
            .iter()
            .fold(
                SchemaBuilder::structure().name(format!("{base}.Value")),
                |b, (name, schema)| b.field(name.clone(), schema.clone()),
            )
            .build_ref();
        let optional_row: SchemaRef = Arc::new(row.to_optional());
        let optional_long = || SchemaBuilder::int64().optional().build_ref();
        let transaction: SchemaRef = Arc::new(schemas::transaction_block().to_optional());
        let envelope = SchemaBuilder::structure()
            .name(format!("{base}.Envelope"))
            .version(2)
            .field("before", optional_row.clone())
            .field("after", optional_row)
            .field("source", source)
            .field("transaction", transaction)
            .field("op", SchemaBuilder::string().build_ref())
            .field("ts_ms", optional_long())
            .field("ts_us", optional_long())
            .field("ts_ns", optional_long())
            .build_ref();
        TableSchemas { key, row, envelope }
    }

    /// One change event's value.
    pub fn envelope(
        &self,
        op: Op,
        before: Option<Struct>,
        after: Option<Struct>,
        source: Struct,
        transaction: Option<Struct>,
        at: EventTime,
    ) -> Value {
        // In the order `new` gives the envelope's fields: one event per captured row makes a
        // lookup by name per field a measurable part of a row's cost.
        Value::Struct(Struct {
            schema: self.envelope.clone(),
            values: vec![
                before.map_or(Value::Null, Value::Struct),
                after.map_or(Value::Null, Value::Struct),
                Value::Struct(source),
                transaction.map_or(Value::Null, Value::Struct),
                Value::String(op.code().to_owned()),
                Value::Int64(at.millis()),
                Value::Int64(at.micros()),
                Value::Int64(at.nanos),
            ],
        })
    }
}

/// Debezium's transaction block for the `n`-th event of a transaction overall and within
/// its table.
pub fn transaction_block(id: &str, total_order: i64, data_collection_order: i64) -> Struct {
    Struct::new(schemas::transaction_block())
        .with("id", id)
        .with("total_order", total_order)
        .with("data_collection_order", data_collection_order)
}

/// The tombstone Debezium emits after a delete: same key, null value, so that log compaction
/// can drop every record of the key.
pub fn tombstone(delete: &SourceRecord) -> SourceRecord {
    // Field by field: cloning the whole record would copy its value, the largest part, only
    // to drop it.
    SourceRecord {
        source_partition: delete.source_partition.clone(),
        source_offset: delete.source_offset.clone(),
        topic: delete.topic.clone(),
        partition: delete.partition,
        key: delete.key.clone(),
        value: SchemaAndValue::null(),
        timestamp: delete.timestamp,
        headers: delete.headers.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source block of the tests' own: the envelope takes whatever block a connector gives.
    fn source_block() -> SchemaRef {
        SchemaBuilder::structure()
            .name("test.Source")
            .field("name", SchemaBuilder::string())
            .build_ref()
    }

    fn table() -> TableSchemas {
        let id = SchemaBuilder::int64().build_ref();
        let name = SchemaBuilder::string().optional().build_ref();
        TableSchemas::new(
            "shop.inventory.customers",
            &[("id".into(), id.clone())],
            &[("id".into(), id), ("name".into(), name)],
            source_block(),
        )
    }

    #[test]
    fn schemas_follow_debezium_naming() {
        let t = table();
        assert!(t
            .key
            .as_ref()
            .is_some_and(|k| k.is_named("shop.inventory.customers.Key")));
        assert!(t.row.is_named("shop.inventory.customers.Value"));
        assert!(t.envelope.is_named("shop.inventory.customers.Envelope"));
        assert_eq!(t.envelope.version, Some(2));
        let fields: Vec<&str> = t.envelope.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            fields,
            [
                "before",
                "after",
                "source",
                "transaction",
                "op",
                "ts_ms",
                "ts_us",
                "ts_ns"
            ]
        );
        let before = &t.envelope.fields[0].schema;
        assert!(before.optional && before.is_named("shop.inventory.customers.Value"));
        assert_eq!(t.envelope.fields[2].schema, source_block());
        let transaction = &t.envelope.fields[3].schema;
        assert!(transaction.optional && transaction.is_named("event.block"));
    }

    #[test]
    fn table_without_primary_key_has_no_key_schema() {
        let t = TableSchemas::new(
            "p.d.t",
            &[],
            &[("a".into(), SchemaBuilder::int32().optional().build_ref())],
            source_block(),
        );
        assert!(t.key.is_none());
    }

    #[test]
    fn envelope_carries_op_code_and_times() {
        let t = table();
        let after = Struct::new(t.row.clone())
            .with("id", 7i64)
            .with("name", "ann");
        let source = Struct::new(source_block()).with("name", "test");
        let at = EventTime {
            nanos: 1_700_000_000_123_456_789,
        };
        let v = t.envelope(Op::Create, None, Some(after), source, None, at);
        let env = v.as_struct().expect("struct");
        assert_eq!(env.get("op"), Some(&Value::from("c")));
        assert_eq!(env.get("before"), Some(&Value::Null));
        assert_eq!(env.get("ts_ms"), Some(&Value::Int64(1_700_000_000_123)));
        assert_eq!(env.get("ts_us"), Some(&Value::Int64(1_700_000_000_123_456)));
        assert_eq!(
            env.get("ts_ns"),
            Some(&Value::Int64(1_700_000_000_123_456_789))
        );
    }
}
