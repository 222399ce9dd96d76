//! Turning captured rows into Kafka records: Debezium's change events, tombstones, truncates,
//! schema changes and heartbeats.

use std::sync::OnceLock;

use tributary_runtime::convert::header::simple_header_value;
use tributary_runtime::data::{SchemaBuilder, SchemaRef, Struct, Value};
use tributary_runtime::envelope::{tombstone, EventTime, Op};
use tributary_runtime::record::{
    Headers, SchemaAndValue, SourceOffset, SourcePartition, SourceRecord,
};

use super::config::MySqlConfig;
use super::offset::{partition, MySqlOffset};
use super::schemas;
use super::table::Table;

/// Our `source.version` (Debezium writes its own, e.g. `3.6.3.Final`; `source.version` in the
/// connector config sets any other).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), ".tributary");

/// Where an event came from, for the `source` block.
#[derive(Clone, Debug, Default)]
pub struct SourceInfo {
    pub ts_ms: i64,
    /// `true`, `first`, `last`, `first_in_data_collection`, `last_in_data_collection`, or `false`.
    pub snapshot: &'static str,
    pub server_id: u32,
    pub gtid: Option<String>,
    pub file: String,
    pub pos: u64,
    pub row: i32,
    pub thread: Option<i64>,
    pub query: Option<String>,
}

pub fn source_block(
    config: &MySqlConfig,
    db: &str,
    table: Option<&str>,
    info: &SourceInfo,
) -> Struct {
    let text = |s: &str| Value::String(s.to_owned());
    let optional_text = |s: Option<&str>| s.map_or(Value::Null, text);
    // Every row event has one, so the values are given in the schema's field order (pinned by
    // `schemas`' `source_block_has_debeziums_fields_in_order`) instead of put by name.
    Struct {
        schema: schemas::source(),
        values: vec![
            text(&config.source_version),
            text("mysql"),
            text(&config.topic_prefix),
            Value::Int64(info.ts_ms),
            text(info.snapshot),
            text(db),
            Value::Null, // sequence: Debezium's MySQL connector leaves it empty
            Value::Int64(info.ts_ms.saturating_mul(1000)),
            Value::Int64(info.ts_ms.saturating_mul(1_000_000)),
            optional_text(table),
            Value::Int64(i64::from(info.server_id)),
            optional_text(info.gtid.as_deref()),
            text(&info.file),
            Value::Int64(i64::try_from(info.pos).unwrap_or(i64::MAX)),
            Value::Int32(info.row),
            info.thread.map_or(Value::Null, Value::Int64),
            optional_text(info.query.as_deref()),
        ],
    }
}

/// One row change, ready to become records.
pub struct RowChange<'a> {
    pub table: &'a Table,
    pub op: Op,
    pub key: Option<Struct>,
    pub before: Option<Struct>,
    pub after: Option<Struct>,
    /// Debezium's headers of a primary-key change ([`key_change_header`]); empty otherwise.
    pub headers: Headers,
}

/// Debezium marks the two halves of a primary-key change (`UPDATE` that moves a row to another
/// key): the delete of the old key carries `__debezium.newkey`, the create of the new key
/// `__debezium.oldkey`, each holding the other key as Kafka Connect's default header converter
/// writes it, so a consumer can tell a moved row from a deleted one.
pub fn key_change_header(table: &Table, name: &str, other_key: Option<&Struct>) -> Headers {
    match (&table.schemas.key, other_key) {
        (Some(schema), Some(key)) => vec![(
            name.to_owned(),
            simple_header_value(schema, &Value::Struct(key.clone())),
        )],
        _ => Vec::new(),
    }
}

/// The header on the delete half of a primary-key change, holding the new key.
pub const NEW_KEY_HEADER: &str = "__debezium.newkey";
/// The header on the create half of a primary-key change, holding the old key.
pub const OLD_KEY_HEADER: &str = "__debezium.oldkey";

/// The records of one row change: the event, and a tombstone after a delete when enabled.
/// They move no offset: building one costs more than the rest of a small row's event, so the
/// caller gives one ([`set_offset`]) only to the last record of a unit it can resume after (a
/// binlog event, a snapshot chunk or piece).
pub fn change_records(
    config: &MySqlConfig,
    change: RowChange<'_>,
    info: &SourceInfo,
    out: &mut Vec<SourceRecord>,
) {
    let now = EventTime::now();
    let source = source_block(config, &change.table.db, Some(&change.table.name), info);
    let value =
        change
            .table
            .schemas
            .envelope(change.op, change.before, change.after, source, None, now);
    let key = match (&change.table.schemas.key, change.key) {
        (Some(schema), Some(k)) => SchemaAndValue::new(schema.clone(), Value::Struct(k)),
        _ => SchemaAndValue::null(),
    };
    let record = SourceRecord {
        source_partition: SourcePartition::new(),
        source_offset: SourceOffset::new(),
        topic: change.table.topic.clone(),
        partition: None,
        key,
        value: SchemaAndValue::new(change.table.schemas.envelope.clone(), value),
        timestamp: None,
        headers: change.headers,
    };
    if change.op == Op::Delete && config.tombstones {
        let t = tombstone(&record);
        out.push(record);
        out.push(t);
    } else {
        out.push(record);
    }
}

/// Makes `record` store `offset` once Kafka has it and everything before it.
pub fn set_offset(config: &MySqlConfig, record: &mut SourceRecord, offset: &MySqlOffset) {
    record.source_partition = partition(&config.topic_prefix);
    record.source_offset = offset.to_offset();
}

/// Debezium's truncate event: `op: t`, no before/after, null key.
pub fn truncate_record(
    config: &MySqlConfig,
    table: &Table,
    info: &SourceInfo,
    offset: &MySqlOffset,
) -> SourceRecord {
    let now = EventTime::now();
    let source = source_block(config, &table.db, Some(&table.name), info);
    let value = table
        .schemas
        .envelope(Op::Truncate, None, None, source, None, now);
    SourceRecord {
        source_partition: partition(&config.topic_prefix),
        source_offset: offset.to_offset(),
        topic: table.topic.clone(),
        partition: None,
        key: SchemaAndValue::null(),
        value: SchemaAndValue::new(table.schemas.envelope.clone(), value),
        timestamp: None,
        headers: Vec::new(),
    }
}

/// One record of the schema-change topic: the statement, the database it belongs to, the table
/// it is about (for `source.table`) and its `tableChanges` entries.
pub struct SchemaChange<'a> {
    pub db: &'a str,
    pub table: Option<&'a str>,
    pub ddl: &'a str,
    pub table_changes: Vec<Value>,
}

/// A record of the schema-change topic `<topic.prefix>` (Debezium's `SchemaChangeValue`).
pub fn schema_change_record(
    config: &MySqlConfig,
    change: SchemaChange<'_>,
    info: &SourceInfo,
    offset: &MySqlOffset,
) -> SourceRecord {
    let now = EventTime::now();
    let key_schema = schemas::schema_change_key();
    let value_schema = schemas::schema_change_value();
    let key = Struct::new(key_schema.clone()).with("databaseName", change.db);
    let mut value = Struct::new(value_schema.clone());
    value.put(
        "source",
        Value::Struct(source_block(config, change.db, change.table, info)),
    );
    value.put("ts_ms", now.millis());
    value.put("databaseName", change.db);
    value.put("ddl", change.ddl);
    value.put("tableChanges", Value::Array(change.table_changes));
    SourceRecord {
        source_partition: partition(&config.topic_prefix),
        source_offset: offset.to_offset(),
        topic: config.topic_prefix.clone(),
        partition: Some(0),
        key: SchemaAndValue::new(key_schema, Value::Struct(key)),
        value: SchemaAndValue::new(value_schema, Value::Struct(value)),
        timestamp: None,
        headers: Vec::new(),
    }
}

fn heartbeat_schemas() -> &'static (SchemaRef, SchemaRef) {
    static CELL: OnceLock<(SchemaRef, SchemaRef)> = OnceLock::new();
    CELL.get_or_init(|| {
        let key = SchemaBuilder::structure()
            .name("io.debezium.connector.common.ServerNameKey")
            .field("serverName", SchemaBuilder::string().build_ref())
            .build_ref();
        let value = SchemaBuilder::structure()
            .name("io.debezium.connector.common.Heartbeat")
            .field("ts_ms", SchemaBuilder::int64().build_ref())
            .build_ref();
        (key, value)
    })
}

/// Debezium's heartbeat: lets the offset advance while captured tables are idle.
pub fn heartbeat_record(config: &MySqlConfig, offset: &MySqlOffset) -> SourceRecord {
    let (ks, vs) = heartbeat_schemas();
    let key = Struct::new(ks.clone()).with("serverName", config.topic_prefix.as_str());
    let value = Struct::new(vs.clone()).with("ts_ms", EventTime::now().millis());
    SourceRecord {
        source_partition: partition(&config.topic_prefix),
        source_offset: offset.to_offset(),
        topic: config.heartbeat_topic.clone(),
        partition: None,
        key: SchemaAndValue::new(ks.clone(), Value::Struct(key)),
        value: SchemaAndValue::new(vs.clone(), Value::Struct(value)),
        timestamp: None,
        headers: Vec::new(),
    }
}

/// Whether two key structs hold the same values (a primary-key change is delete + create).
pub fn same_key(a: &Option<Struct>, b: &Option<Struct>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.values == b.values,
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::minimal_for_tests;
    use super::*;

    #[test]
    fn the_source_block_holds_each_value_under_its_debezium_name() {
        let config = MySqlConfig::parse(&minimal_for_tests()).expect("a valid config");
        let info = SourceInfo {
            ts_ms: 1_700_000_000_123,
            snapshot: "last",
            server_id: 223_344,
            gtid: Some("0-1-42".into()),
            file: "mysql-bin.000003".into(),
            pos: 154,
            row: 2,
            thread: Some(7),
            query: Some("INSERT INTO t VALUES (1)".into()),
        };
        let block = source_block(&config, "inventory", Some("customers"), &info);
        let expected: [(&str, Value); 17] = [
            ("version", VERSION.into()),
            ("connector", "mysql".into()),
            ("name", "dbserver1".into()),
            ("ts_ms", 1_700_000_000_123i64.into()),
            ("snapshot", "last".into()),
            ("db", "inventory".into()),
            ("sequence", Value::Null),
            ("ts_us", 1_700_000_000_123_000i64.into()),
            ("ts_ns", 1_700_000_000_123_000_000i64.into()),
            ("table", "customers".into()),
            ("server_id", 223_344i64.into()),
            ("gtid", "0-1-42".into()),
            ("file", "mysql-bin.000003".into()),
            ("pos", 154i64.into()),
            ("row", 2i32.into()),
            ("thread", 7i64.into()),
            ("query", "INSERT INTO t VALUES (1)".into()),
        ];
        assert_eq!(block.values.len(), expected.len());
        for (name, value) in expected {
            assert_eq!(block.get(name), Some(&value), "source.{name}");
        }
        let without = SourceInfo {
            gtid: None,
            thread: None,
            query: None,
            ..info
        };
        let block = source_block(&config, "inventory", None, &without);
        for name in ["table", "gtid", "thread", "query"] {
            assert_eq!(block.get(name), Some(&Value::Null), "source.{name}");
        }
    }
}
