//! The connector's behaviour without a database: configuration, records to changes, batch
//! collapsing.

use std::sync::Arc;

use tributary_runtime::config::ConfigMap;
use tributary_runtime::connector::{Connector, Plugins};
use tributary_runtime::data::{logical, SchemaBuilder, SchemaRef, Struct, Value};
use tributary_runtime::envelope::{Op, TableSchemas};
use tributary_runtime::record::{SchemaAndValue, SinkRecord};

use super::batch::collapse;
use super::cell::Cell;
use super::change::{ChangeOp, Mapper};
use super::config::{JdbcSinkConfig, PkMode};
use super::dialect::{Dialect, InsertMode};
use super::ident::TableId;
use super::JdbcSinkConnector;
use crate::datagen;

fn config(pairs: &[(&str, &str)]) -> ConfigMap {
    let mut c: ConfigMap = [
        ("name", "sink"),
        ("connector.class", "jdbc-sink"),
        ("topics", "t"),
        ("connection.url", "mysql://root@127.0.0.1:3306/db"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in pairs {
        c.insert((*k).to_owned(), (*v).to_owned());
    }
    c
}

fn parse(pairs: &[(&str, &str)]) -> Result<JdbcSinkConfig, String> {
    JdbcSinkConfig::parse(&config(pairs)).map_err(|e| e.to_string())
}

fn check(pairs: &[(&str, &str)]) -> Result<(), String> {
    Plugins::check(&JdbcSinkConnector, &config(pairs)).map_err(|e| e.to_string())
}

#[test]
fn all_three_class_names_find_the_connector() {
    let plugins = crate::plugins();
    for name in [
        "jdbc-sink",
        "io.confluent.connect.jdbc.JdbcSinkConnector",
        "io.debezium.connector.jdbc.JdbcSinkConnector",
        "io.tributary.connector.jdbc.JdbcSinkConnector",
        "JdbcSink",
    ] {
        assert!(plugins.find(name).is_some(), "{name}");
    }
}

#[test]
fn confluent_and_debezium_property_names_are_both_accepted() {
    let confluent = parse(&[
        ("insert.mode", "upsert"),
        ("pk.mode", "record_key"),
        ("pk.fields", "id"),
        ("fields.whitelist", "a,b"),
        ("auto.create", "true"),
        ("connection.user", "u"),
    ])
    .expect("confluent config");
    let debezium = parse(&[
        ("insert.mode", "upsert"),
        ("primary.key.mode", "record_key"),
        ("primary.key.fields", "id"),
        ("field.include.list", "a,b"),
        ("schema.evolution", "basic"),
        ("connection.username", "u"),
    ])
    .expect("debezium config");
    for c in [&confluent, &debezium] {
        assert_eq!(c.insert_mode, InsertMode::Upsert);
        assert_eq!(c.pk_mode, PkMode::RecordKey);
        assert_eq!(c.pk_fields, vec!["id".to_owned()]);
        assert_eq!(c.include_fields, vec!["a".to_owned(), "b".to_owned()]);
        assert!(c.auto_create);
        assert_eq!(c.url.user.as_deref(), Some("u"));
    }
    assert!(debezium.auto_evolve);
    assert!(check(&[
        ("primary.key.mode", "record_key"),
        ("field.include.list", "a"),
        ("exactly.once.enabled", "true"),
        ("delete.enabled", "true"),
    ])
    .is_ok());
}

#[test]
fn contradicting_aliases_are_refused() {
    let err = parse(&[("pk.mode", "record_key"), ("primary.key.mode", "kafka")]).unwrap_err();
    assert!(
        err.contains("primary.key.mode") && err.contains("contradicts"),
        "{err}"
    );
}

#[test]
fn cross_key_rules_name_the_key_to_fix() {
    let err = check(&[("insert.mode", "upsert")]).unwrap_err();
    assert!(
        err.contains("insert.mode") && err.contains("pk.mode"),
        "{err}"
    );
    let err = check(&[("delete.enabled", "true"), ("pk.mode", "record_value")]).unwrap_err();
    assert!(err.contains("delete.enabled"), "{err}");
    let err = check(&[("pk.mode", "kafka"), ("pk.fields", "a,b")]).unwrap_err();
    assert!(err.contains("pk.fields"), "{err}");
    let err = check(&[("table.name.format", "${tpoic}")]).unwrap_err();
    assert!(err.contains("table.name.format"), "{err}");
    let err = check(&[("connection.url", "mysql://h:3306")]).unwrap_err();
    assert!(err.contains("name a database"), "{err}");
    assert!(check(&[
        ("connection.url", "mysql://h:3306"),
        ("table.name.format", "db.${topic}")
    ])
    .is_ok());
    let err = check(&[("dialect.name", "PostgreSqlDatabaseDialect")]).unwrap_err();
    assert!(err.contains("disagrees"), "{err}");
    let err = check(&[("connection.url", "oracle://h/x")]).unwrap_err();
    assert!(err.contains("unsupported database"), "{err}");
    let err = check(&[("fields.whitlist", "a")]).unwrap_err();
    assert!(err.contains("fields.whitelist"), "{err}");
}

#[test]
fn the_password_never_appears_in_config_errors() {
    for url in [
        "mysql://root:hunter2@h:99999/db",
        "jdbc:oracle:thin:root/hunter2@h:1521:x?password=hunter2",
    ] {
        let err = check(&[("connection.url", url)]).unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }
    let err = check(&[
        ("connection.password", "hunter2"),
        ("insert.mode", "upsert"),
    ])
    .unwrap_err();
    assert!(!err.contains("hunter2"), "{err}");
    let def = Plugins::full_config_def(&JdbcSinkConnector);
    let values = def.validate(&config(&[("connection.password", "hunter2")]));
    let shown = serde_json::to_string(&values).expect("json");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn the_password_never_appears_in_connection_errors() {
    for url in [
        "mysql://root:hunter2@127.0.0.1:1/db",
        "postgres://postgres:hunter2@127.0.0.1:1/db",
        "sqlserver://127.0.0.1:1;user=sa;password=hunter2",
    ] {
        let url = super::url::ConnectionUrl::parse(url).expect("url");
        let err = match super::db::connect(&url).await {
            Ok(_) => panic!("nothing listens on port 1"),
            Err(e) => e,
        };
        assert!(
            matches!(err, super::db::DbError::Transient(_)),
            "a refused connection is worth retrying: {err:?}"
        );
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}

#[test]
fn each_task_gets_the_whole_config() {
    let tasks = JdbcSinkConnector
        .task_configs(&config(&[]), 3)
        .expect("task configs");
    assert_eq!(tasks.len(), 3);
    assert!(tasks.iter().all(|t| t == &config(&[])));
}

// ---- records to changes ----

fn key_schema() -> SchemaRef {
    SchemaBuilder::structure()
        .name("srv.inv.customers.Key")
        .field("id", SchemaBuilder::int64().build_ref())
        .build_ref()
}

fn table() -> TableSchemas {
    let id = SchemaBuilder::int64().build_ref();
    TableSchemas::new(
        "srv.inv.customers",
        &[("id".into(), id.clone())],
        &[
            ("id".into(), id),
            (
                "name".into(),
                SchemaBuilder::string().optional().build_ref(),
            ),
            (
                "balance".into(),
                logical::decimal(Some(10), 2).optional().build_ref(),
            ),
        ],
        datagen::schemas::source(),
    )
}

fn source() -> Struct {
    let mut s = Struct::new(datagen::schemas::source());
    s.put("db", "inv");
    s.put("table", "customers");
    s
}

fn event(t: &TableSchemas, op: Op, id: i64, name: &str, offset: i64) -> SinkRecord {
    let row = Struct::new(t.row.clone())
        .with("id", id)
        .with("name", name)
        .with(
            "balance",
            Value::Bytes(logical::decimal_to_bytes("12.50", 2).expect("decimal")),
        );
    let (before, after) = match op {
        Op::Delete => (Some(row), None),
        _ => (None, Some(row)),
    };
    let value = t.envelope(
        op,
        before,
        after,
        source(),
        None,
        tributary_runtime::envelope::EventTime { nanos: 0 },
    );
    SinkRecord {
        topic: "srv.inv.customers".into(),
        partition: 0,
        offset,
        key: SchemaAndValue::new(
            key_schema(),
            Value::Struct(Struct::new(key_schema()).with("id", id)),
        ),
        value: SchemaAndValue::new(t.envelope.clone(), value),
        timestamp: None,
        headers: Vec::new(),
    }
}

fn mapper(pairs: &[(&str, &str)]) -> Mapper {
    Mapper::new(&parse(pairs).expect("config"))
}

#[test]
fn debezium_creates_and_updates_become_upserts_of_after_keyed_by_the_record_key() {
    let mut m = mapper(&[("pk.mode", "record_key"), ("insert.mode", "upsert")]);
    let t = table();
    let change = m
        .change(&event(&t, Op::Create, 7, "ann", 0), 0)
        .expect("maps")
        .expect("a change");
    assert_eq!(change.op, ChangeOp::Upsert);
    assert_eq!(*change.shape.table, TableId::new(None, "srv_inv_customers"));
    let names: Vec<&str> = change
        .shape
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["id", "name", "balance"]);
    assert_eq!(change.shape.pk, vec![0]);
    assert_eq!(
        change.cells,
        vec![
            Cell::Int(7),
            Cell::Text("ann".into()),
            Cell::Decimal("12.50".into())
        ]
    );
    let read = m
        .change(&event(&t, Op::Read, 8, "bob", 1), 1)
        .expect("maps")
        .expect("a change");
    assert!(
        Arc::ptr_eq(&read.shape, &change.shape),
        "records of one schema share one shape"
    );
}

#[test]
fn deletes_and_tombstones_delete_by_key_only_when_enabled() {
    let t = table();
    let delete = event(&t, Op::Delete, 7, "ann", 0);
    let tombstone = SinkRecord {
        value: SchemaAndValue::null(),
        ..delete.clone()
    };
    let mut off = mapper(&[("pk.mode", "record_key")]);
    assert!(off.change(&delete, 0).expect("maps").is_none());
    assert!(off.change(&tombstone, 1).expect("maps").is_none());
    let mut on = mapper(&[("pk.mode", "record_key"), ("delete.enabled", "true")]);
    for record in [&delete, &tombstone] {
        let change = on.change(record, 0).expect("maps").expect("a delete");
        assert_eq!(change.op, ChangeOp::Delete);
        assert_eq!(change.cells, vec![Cell::Int(7)]);
        assert_eq!(change.shape.columns.len(), 1);
    }
}

#[test]
fn truncates_are_skipped_unless_enabled() {
    let t = table();
    let truncate = SinkRecord {
        value: SchemaAndValue::new(
            t.envelope.clone(),
            t.envelope(
                Op::Truncate,
                None,
                None,
                source(),
                None,
                tributary_runtime::envelope::EventTime { nanos: 0 },
            ),
        ),
        ..event(&t, Op::Create, 1, "a", 0)
    };
    assert!(mapper(&[]).change(&truncate, 0).expect("maps").is_none());
    let change = mapper(&[("truncate.enabled", "true")])
        .change(&truncate, 0)
        .expect("maps")
        .expect("a truncate");
    assert_eq!(change.op, ChangeOp::Truncate);
}

#[test]
fn table_names_can_come_from_the_source_block() {
    let t = table();
    let change = mapper(&[("table.name.format", "archive_${source.db}.${source.table}")])
        .change(&event(&t, Op::Create, 1, "a", 0), 0)
        .expect("maps")
        .expect("a change");
    assert_eq!(
        *change.shape.table,
        TableId::new(Some("archive_inv"), "customers")
    );
}

#[test]
fn field_lists_and_kafka_keys() {
    let t = table();
    let record = event(&t, Op::Create, 1, "a", 42);
    let change = mapper(&[
        ("pk.mode", "kafka"),
        ("fields.whitelist", "srv.inv.customers:name"),
    ])
    .change(&record, 0)
    .expect("maps")
    .expect("a change");
    let names: Vec<&str> = change
        .shape
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "__connect_topic",
            "__connect_partition",
            "__connect_offset",
            "name"
        ]
    );
    assert_eq!(change.cells[2], Cell::Int(42));
    let change = mapper(&[("field.exclude.list", "balance")])
        .change(&record, 0)
        .expect("maps")
        .expect("a change");
    assert_eq!(change.shape.columns.len(), 2);
}

#[test]
fn record_value_keys_and_primitive_keys() {
    let t = table();
    let change = mapper(&[("pk.mode", "record_value"), ("pk.fields", "name")])
        .change(&event(&t, Op::Create, 1, "a", 0), 0)
        .expect("maps")
        .expect("a change");
    assert_eq!(change.shape.columns[0].name, "name");
    assert_eq!(change.shape.pk, vec![0]);
    let flat = SchemaBuilder::structure()
        .field("v", SchemaBuilder::int32().build_ref())
        .build_ref();
    let record = SinkRecord {
        topic: "t".into(),
        partition: 0,
        offset: 0,
        key: SchemaAndValue::new(SchemaBuilder::string().build_ref(), Value::from("k1")),
        value: SchemaAndValue::new(flat.clone(), Value::Struct(Struct::new(flat).with("v", 5))),
        timestamp: None,
        headers: Vec::new(),
    };
    let err = mapper(&[("pk.mode", "record_key")])
        .change(&record, 0)
        .unwrap_err();
    assert!(err.contains("pk.fields"), "{err}");
    let change = mapper(&[("pk.mode", "record_key"), ("pk.fields", "code")])
        .change(&record, 0)
        .expect("maps")
        .expect("a change");
    assert_eq!(change.cells, vec![Cell::Text("k1".into()), Cell::Int(5)]);
}

#[test]
fn schemaless_json_envelopes_and_rows_are_read_too() {
    let map = |pairs: Vec<(&str, Value)>| {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect(),
        )
    };
    let envelope = map(vec![
        ("before", Value::Null),
        (
            "after",
            map(vec![
                ("id", Value::Int64(3)),
                ("tags", Value::Array(vec![Value::from("x")])),
            ]),
        ),
        ("op", Value::from("c")),
    ]);
    let record = SinkRecord {
        topic: "t".into(),
        partition: 0,
        offset: 0,
        key: SchemaAndValue {
            schema: None,
            value: map(vec![("id", Value::Int64(3))]),
        },
        value: SchemaAndValue {
            schema: None,
            value: envelope,
        },
        timestamp: None,
        headers: Vec::new(),
    };
    let change = mapper(&[("pk.mode", "record_key")])
        .change(&record, 0)
        .expect("maps")
        .expect("a change");
    assert_eq!(
        change.cells,
        vec![Cell::Int(3), Cell::Json(r#"["x"]"#.into())]
    );
}

#[test]
fn records_that_cannot_be_rows_say_why() {
    let record = SinkRecord {
        topic: "t".into(),
        partition: 0,
        offset: 0,
        key: SchemaAndValue::null(),
        value: SchemaAndValue::new(SchemaBuilder::string().build_ref(), Value::from("x")),
        timestamp: None,
        headers: Vec::new(),
    };
    let err = mapper(&[]).change(&record, 0).unwrap_err();
    assert!(err.contains("must be a struct"), "{err}");
    let t = table();
    let keyless = SinkRecord {
        key: SchemaAndValue::null(),
        ..event(&t, Op::Create, 1, "a", 0)
    };
    let err = mapper(&[("pk.mode", "record_key")])
        .change(&keyless, 0)
        .unwrap_err();
    assert!(err.contains("no key"), "{err}");
}

// ---- collapsing ----

/// The records mapped in order (their index as record number), then collapsed.
fn collapsed(m: &mut Mapper, records: &[SinkRecord]) -> Vec<super::batch::TableWork> {
    let changes: Vec<_> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| m.change(r, i).expect("maps"))
        .collect();
    collapse(changes)
}

#[test]
fn changes_to_one_key_collapse_to_the_last_and_keys_stay_distinct() {
    let mut m = mapper(&[("pk.mode", "record_key"), ("delete.enabled", "true")]);
    let t = table();
    let records = [
        event(&t, Op::Create, 1, "a", 0),
        event(&t, Op::Create, 2, "b", 1),
        event(&t, Op::Update, 1, "a2", 2),
        event(&t, Op::Delete, 2, "b", 3),
        event(&t, Op::Update, 1, "a3", 4),
        event(&t, Op::Create, 3, "c", 5),
    ];
    let work = collapsed(&mut m, &records);
    assert_eq!(work.len(), 1);
    let upserts: Vec<(usize, &Cell)> = work[0]
        .upserts
        .iter()
        .flat_map(|g| g.changes.iter())
        .map(|c| (c.record, &c.cells[1]))
        .collect();
    assert_eq!(
        upserts,
        vec![(4, &Cell::Text("a3".into())), (5, &Cell::Text("c".into()))]
    );
    let deletes: Vec<usize> = work[0]
        .deletes
        .iter()
        .flat_map(|g| g.changes.iter())
        .map(|c| c.record)
        .collect();
    assert_eq!(deletes, vec![3]);
}

#[test]
fn each_group_is_written_in_ascending_key_order() {
    let mut m = mapper(&[("pk.mode", "record_key"), ("delete.enabled", "true")]);
    let t = table();
    let records = [
        event(&t, Op::Create, 30, "c", 0),
        event(&t, Op::Create, -5, "a", 1),
        event(&t, Op::Delete, 9, "x", 2),
        event(&t, Op::Create, 12, "b", 3),
        event(&t, Op::Delete, 2, "y", 4),
    ];
    let work = collapsed(&mut m, &records);
    let keys = |groups: &[super::batch::Group]| -> Vec<Cell> {
        groups
            .iter()
            .flat_map(|g| g.changes.iter())
            .map(|c| c.cells[0].clone())
            .collect()
    };
    assert_eq!(
        keys(&work[0].upserts),
        vec![Cell::Int(-5), Cell::Int(12), Cell::Int(30)]
    );
    assert_eq!(keys(&work[0].deletes), vec![Cell::Int(2), Cell::Int(9)]);
}

#[test]
fn a_truncate_drops_what_came_before_it() {
    let mut m = mapper(&[("pk.mode", "record_key"), ("truncate.enabled", "true")]);
    let t = table();
    let truncate = SinkRecord {
        value: SchemaAndValue::new(
            t.envelope.clone(),
            t.envelope(
                Op::Truncate,
                None,
                None,
                source(),
                None,
                tributary_runtime::envelope::EventTime { nanos: 0 },
            ),
        ),
        ..event(&t, Op::Create, 1, "a", 1)
    };
    let records = [
        event(&t, Op::Create, 1, "a", 0),
        truncate,
        event(&t, Op::Create, 2, "b", 2),
    ];
    let work = collapsed(&mut m, &records);
    assert!(work[0].truncate);
    let kept: Vec<usize> = work[0].changes().map(|c| c.record).collect();
    assert_eq!(kept, vec![2]);
}

#[test]
fn without_a_key_nothing_collapses() {
    let mut m = mapper(&[]);
    let t = table();
    let records = [
        event(&t, Op::Create, 1, "a", 0),
        event(&t, Op::Create, 1, "a", 1),
    ];
    assert_eq!(collapsed(&mut m, &records)[0].changes().count(), 2);
}

#[test]
fn dialect_follows_the_url() {
    assert_eq!(
        parse(&[("connection.url", "jdbc:postgresql://h/db")])
            .expect("config")
            .url
            .dialect,
        Dialect::Postgres
    );
}

#[test]
fn the_preparer_maps_every_record_of_a_batch_ahead_of_put() {
    use tributary_runtime::connector::SinkTask;
    let config = parse(&[
        ("pk.mode", "record_key"),
        ("insert.mode", "upsert"),
        ("delete.enabled", "true"),
    ])
    .expect("config");
    let task = super::sink::JdbcSinkTask::new(config);
    let t = table();
    let records = vec![
        event(&t, Op::Create, 1, "ann", 0),
        event(&t, Op::Update, 2, "bob", 1),
        event(&t, Op::Delete, 1, "ann", 2),
    ];
    let prepared = task
        .preparer()
        .expect("the jdbc sink prepares batches")
        .prepare(&records);
    let mapped = prepared
        .downcast::<super::sink::Mapped>()
        .expect("a mapped batch");
    let changes: Vec<_> = mapped
        .iter()
        .map(|m| m.clone().expect("maps").expect("a change"))
        .collect();
    let ops: Vec<(ChangeOp, usize)> = changes.iter().map(|c| (c.op, c.record)).collect();
    assert_eq!(
        ops,
        vec![
            (ChangeOp::Upsert, 0),
            (ChangeOp::Upsert, 1),
            (ChangeOp::Delete, 2)
        ]
    );
    assert!(
        Arc::ptr_eq(&changes[0].shape, &changes[1].shape),
        "one interned shape per table and schema"
    );
}
