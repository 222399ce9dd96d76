//! The jdbc sink applied to real MariaDB and PostgreSQL servers through a worker and a Kafka
//! (mock cluster): Debezium change events (Avro through the registry) mirror their source
//! table — inserts, updates, deletes, tombstones, key changes, composite keys, snapshot reads,
//! a new column — and every type of the MySQL source lands with its value; JSON records with
//! hostile identifiers are written under their exact names and inject nothing. PostgreSQL
//! takes upserts of new keys by a COPY straight into the table, and merges the rest.

#[path = "support/jdbc.rs"]
mod jdbc_support;
mod support;

use std::time::Duration;

use jdbc_support::{account, accounts_sink, sink_config, Feed, Kind, Table, TestDb};
use support::{kafka, start_plain_worker, Http};
use tributary_runtime::data::{logical, SchemaBuilder, SchemaRef, Struct, Value};
use tributary_runtime::envelope::Op;
use tributary_runtime::record::SchemaAndValue;

const WAIT: Duration = Duration::from_secs(30);
const AVRO: &str = "io.confluent.connect.avro.AvroConverter";
const JSON: &str = "org.apache.kafka.connect.json.JsonConverter";

fn s(v: &str) -> Option<&str> {
    Some(v)
}

fn int64() -> SchemaRef {
    SchemaBuilder::int64().build_ref()
}
fn opt_string() -> SchemaRef {
    SchemaBuilder::string().optional().build_ref()
}

// ---------------------------------------------------------------------------------------
// Debezium change events mirror the source table.

async fn change_events_mirror_the_source(kind: Kind) {
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    let mut db = TestDb::new(kind, "mirror").await;
    let customers = Table::new(
        "shop",
        "inv",
        "customers",
        &["id"],
        &[
            ("id", int64()),
            ("name", opt_string()),
            ("select", opt_string()),
        ],
    );
    let pairs = Table::new(
        "shop",
        "inv",
        "pairs",
        &["k1", "k2"],
        &[
            ("k1", SchemaBuilder::int32().build_ref()),
            ("k2", SchemaBuilder::string().build_ref()),
            ("v", SchemaBuilder::int32().optional().build_ref()),
        ],
    );
    for t in [&customers, &pairs] {
        kafka.create_topic(&t.topic(), 1, 1).expect("topic");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = sink_config(
        "mirror",
        &format!("{},{}", customers.topic(), pairs.topic()),
        &db.url,
        &[
            ("key.converter", AVRO),
            ("value.converter", AVRO),
            ("insert.mode", "upsert"),
            ("pk.mode", "record_key"),
            ("delete.enabled", "true"),
            ("auto.create", "true"),
            ("auto.evolve", "true"),
            ("table.name.format", "${source.table}"),
        ],
    );
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let feed = Feed::avro(
        &bootstrap,
        worker.registry_url.as_deref().expect("registry"),
    );

    let c = |id: i64, name: &str| {
        customers.row(&[
            ("id", Value::Int64(id)),
            ("name", Value::from(name)),
            ("select", Value::from(format!("s{id}"))),
        ])
    };
    let mut events = vec![
        customers.event(Op::Read, None, Some(c(1, "ann"))),
        customers.event(Op::Read, None, Some(c(2, "bob"))),
        customers.event(Op::Create, None, Some(c(3, "cy"))),
        customers.event(Op::Update, Some(c(1, "ann")), Some(c(1, "ann2"))),
    ];
    events.extend(customers.delete(c(2, "bob")));
    // A primary-key change: delete + tombstone of the old key, create of the new one.
    events.extend(customers.delete(c(3, "cy")));
    events.push(customers.event(Op::Create, None, Some(c(30, "cy"))));
    events.push(customers.event(Op::Create, None, Some(c(4, "dee"))));
    events.push(customers.event(Op::Update, Some(c(4, "dee")), Some(c(4, "dee2"))));
    for (key, value) in &events {
        feed.send(&customers.topic(), None, key, value).await;
    }
    let p = |k1: i32, k2: &str, v: i32| {
        pairs.row(&[
            ("k1", Value::Int32(k1)),
            ("k2", Value::from(k2)),
            ("v", Value::Int32(v)),
        ])
    };
    let mut events = vec![
        pairs.event(Op::Create, None, Some(p(1, "a", 10))),
        pairs.event(Op::Create, None, Some(p(2, "b", 20))),
        pairs.event(Op::Create, None, Some(p(2, "c", 30))),
        pairs.event(Op::Update, Some(p(2, "b", 20)), Some(p(2, "b", 21))),
    ];
    events.extend(pairs.delete(p(1, "a", 10)));
    for (key, value) in &events {
        feed.send(&pairs.topic(), None, key, value).await;
    }

    let (name, sel) = (db.q("name"), db.q("select"));
    db.wait_rows(
        "customers to mirror the source",
        &format!("SELECT id, {name}, {sel} FROM customers ORDER BY id"),
        &[
            &[s("1"), s("ann2"), s("s1")],
            &[s("4"), s("dee2"), s("s4")],
            &[s("30"), s("cy"), s("s30")],
        ],
        WAIT,
    )
    .await;
    db.wait_rows(
        "pairs (composite key) to mirror the source",
        "SELECT k1, k2, v FROM pairs ORDER BY k1, k2",
        &[&[s("2"), s("b"), s("21")], &[s("2"), s("c"), s("30")]],
        WAIT,
    )
    .await;
    let schema_filter = match kind {
        Kind::MariaDb => "table_schema = DATABASE()",
        Kind::Postgres => "table_schema = current_schema()",
    };
    let keys = db
        .rows(&format!(
            "SELECT table_name, column_name FROM information_schema.key_column_usage \
             WHERE {schema_filter} ORDER BY table_name, ordinal_position"
        ))
        .await;
    let keys: Vec<(String, String)> = keys
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap_or_default(),
                r[1].clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("customers".into(), "id".into()),
            ("pairs".into(), "k1".into()),
            ("pairs".into(), "k2".into())
        ],
        "auto.create declared the record keys as primary keys"
    );

    // A newer schema version with one more column: auto.evolve adds it, nullable.
    let customers_v2 = Table::new(
        "shop",
        "inv",
        "customers",
        &["id"],
        &[
            ("id", int64()),
            ("name", opt_string()),
            ("select", opt_string()),
            ("tier", opt_string()),
        ],
    );
    let row = customers_v2.row(&[
        ("id", Value::Int64(5)),
        ("name", Value::from("eve")),
        ("tier", Value::from("gold")),
    ]);
    let (key, value) = customers_v2.event(Op::Create, None, Some(row));
    feed.send(&customers.topic(), None, &key, &value).await;
    db.wait_rows(
        "the new column and its value",
        &format!("SELECT id, {name}, tier FROM customers ORDER BY id"),
        &[
            &[s("1"), s("ann2"), None],
            &[s("4"), s("dee2"), None],
            &[s("5"), s("eve"), s("gold")],
            &[s("30"), s("cy"), None],
        ],
        WAIT,
    )
    .await;
    let nullable = db
        .scalar(&format!(
            "SELECT is_nullable FROM information_schema.columns WHERE {schema_filter} \
             AND table_name = 'customers' AND column_name = 'tier'"
        ))
        .await;
    assert_eq!(nullable.as_deref(), Some("YES"));

    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state("mirror", "RUNNING", WAIT).await;
    worker.shutdown().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_change_events_mirror_the_source_in_mariadb() {
    change_events_mirror_the_source(Kind::MariaDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_change_events_mirror_the_source_in_postgres() {
    change_events_mirror_the_source(Kind::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// Every type of the MySQL source (Debezium 3.6.3's recorded `refdb.all_types`).

fn all_types() -> Table {
    let opt = |b: SchemaBuilder| b.optional().build_ref();
    let dbz = |b: SchemaBuilder, name: &str| logical::debezium(b, name).optional().build_ref();
    let allowed = |b: SchemaBuilder, name: &str, values: &str| {
        logical::debezium(b, name)
            .parameter("allowed", values)
            .optional()
            .build_ref()
    };
    let geometry = logical::debezium(SchemaBuilder::structure(), logical::DBZ_GEOMETRY)
        .doc("Geometry")
        .field("wkb", SchemaBuilder::bytes().build_ref())
        .field("srid", SchemaBuilder::int32().optional().build_ref())
        .optional()
        .build_ref();
    Table::new(
        "ref",
        "refdb",
        "all_types",
        &["id"],
        &[
            ("id", int64()),
            ("c_tinyint", opt(SchemaBuilder::int16())),
            ("c_tinyint_u", opt(SchemaBuilder::int16())),
            ("c_smallint", opt(SchemaBuilder::int16())),
            ("c_smallint_u", opt(SchemaBuilder::int32())),
            ("c_mediumint", opt(SchemaBuilder::int32())),
            ("c_mediumint_u", opt(SchemaBuilder::int32())),
            ("c_int", opt(SchemaBuilder::int32())),
            ("c_int_u", opt(SchemaBuilder::int64())),
            ("c_bigint", opt(SchemaBuilder::int64())),
            ("c_bigint_u", opt(SchemaBuilder::int64())),
            (
                "c_decimal",
                logical::decimal(Some(20), 4).optional().build_ref(),
            ),
            (
                "c_decimal0",
                logical::decimal(Some(10), 0).optional().build_ref(),
            ),
            ("c_float", opt(SchemaBuilder::float32())),
            ("c_double", opt(SchemaBuilder::float64())),
            ("c_char", opt(SchemaBuilder::string())),
            ("c_varchar", opt(SchemaBuilder::string())),
            ("c_text", opt(SchemaBuilder::string())),
            ("c_binary", opt(SchemaBuilder::bytes())),
            ("c_varbinary", opt(SchemaBuilder::bytes())),
            ("c_blob", opt(SchemaBuilder::bytes())),
            ("c_date", dbz(SchemaBuilder::int32(), logical::DBZ_DATE)),
            (
                "c_time",
                dbz(SchemaBuilder::int64(), logical::DBZ_MICRO_TIME),
            ),
            (
                "c_time6",
                dbz(SchemaBuilder::int64(), logical::DBZ_MICRO_TIME),
            ),
            (
                "c_datetime",
                dbz(SchemaBuilder::int64(), logical::DBZ_TIMESTAMP),
            ),
            (
                "c_datetime3",
                dbz(SchemaBuilder::int64(), logical::DBZ_TIMESTAMP),
            ),
            (
                "c_datetime6",
                dbz(SchemaBuilder::int64(), logical::DBZ_MICRO_TIMESTAMP),
            ),
            (
                "c_timestamp",
                dbz(SchemaBuilder::string(), logical::DBZ_ZONED_TIMESTAMP),
            ),
            (
                "c_timestamp6",
                dbz(SchemaBuilder::string(), logical::DBZ_ZONED_TIMESTAMP),
            ),
            ("c_year", dbz(SchemaBuilder::int32(), logical::DBZ_YEAR)),
            (
                "c_enum",
                allowed(SchemaBuilder::string(), logical::DBZ_ENUM, "red,green,blue"),
            ),
            (
                "c_set",
                allowed(SchemaBuilder::string(), logical::DBZ_ENUM_SET, "a,b,c"),
            ),
            ("c_bit1", opt(SchemaBuilder::boolean())),
            (
                "c_bit12",
                logical::debezium(SchemaBuilder::bytes(), logical::DBZ_BITS)
                    .parameter("length", "12")
                    .optional()
                    .build_ref(),
            ),
            ("c_bool", opt(SchemaBuilder::int16())),
            ("c_json", dbz(SchemaBuilder::string(), logical::DBZ_JSON)),
            ("c_geom", geometry),
        ],
    )
}

/// Row 1 of the reference scenario, values as Debezium sent them (`events.jsonl`).
fn reference_row(t: &Table) -> Struct {
    let dec =
        |text: &str, scale| Value::Bytes(logical::decimal_to_bytes(text, scale).expect("decimal"));
    let geometry_schema = t
        .schemas
        .row
        .field("c_geom")
        .expect("c_geom")
        .1
        .schema
        .clone();
    let geometry = Struct::new(geometry_schema)
        .with(
            "wkb",
            Value::Bytes(vec![
                1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40,
            ]),
        )
        .with("srid", 4326);
    t.row(&[
        ("id", Value::Int64(1)),
        ("c_tinyint", Value::Int16(-128)),
        ("c_tinyint_u", Value::Int16(255)),
        ("c_smallint", Value::Int16(-32768)),
        ("c_smallint_u", Value::Int32(65535)),
        ("c_mediumint", Value::Int32(-8388608)),
        ("c_mediumint_u", Value::Int32(16777215)),
        ("c_int", Value::Int32(-2147483648)),
        ("c_int_u", Value::Int64(4294967295)),
        ("c_bigint", Value::Int64(i64::MIN)),
        ("c_bigint_u", Value::Int64(-1)),
        ("c_decimal", dec("-1234567890123456.7890", 4)),
        ("c_decimal0", dec("9999999999", 0)),
        ("c_float", Value::Float32(3.25)),
        ("c_double", Value::Float64(-2.5e300)),
        ("c_char", Value::from("chär")),
        ("c_varchar", Value::from("héllo wörld ✓")),
        ("c_text", Value::from("long text")),
        ("c_binary", Value::Bytes(vec![1, 2, 3, 4])),
        ("c_varbinary", Value::Bytes(vec![0xde, 0xad, 0xbe, 0xef])),
        ("c_blob", Value::Bytes(vec![0, 0xff, 0, 0xff])),
        ("c_date", Value::Int32(19782)),
        ("c_time", Value::Int64(-45_296_000_000)),
        ("c_time6", Value::Int64(3_020_399_999_999)),
        ("c_datetime", Value::Int64(0)),
        ("c_datetime3", Value::Int64(1_709_251_199_999)),
        ("c_datetime6", Value::Int64(946_684_799_123_456)),
        ("c_timestamp", Value::from("2024-02-29T12:00:00Z")),
        ("c_timestamp6", Value::from("2038-01-19T03:14:07.999999Z")),
        ("c_year", Value::Int32(2155)),
        ("c_enum", Value::from("green")),
        ("c_set", Value::from("a,c")),
        ("c_bit1", Value::Boolean(true)),
        ("c_bit12", Value::Bytes(vec![0xaa, 0x0a])),
        ("c_bool", Value::Int16(1)),
        ("c_json", Value::from(r#"{"k": [1, 2, {"x": null}]}"#)),
        ("c_geom", Value::Struct(geometry)),
    ])
}

/// (column, SQL expression giving its text, expected text) for row 1.
fn expectations(kind: Kind) -> Vec<(&'static str, String, &'static str)> {
    let my = kind == Kind::MariaDb;
    let hex = |c: &str| {
        if my {
            format!("LOWER(HEX({c}))")
        } else {
            format!("encode({c}, 'hex')")
        }
    };
    let plain = |c: &str| c.to_owned();
    vec![
        ("c_tinyint", plain("c_tinyint"), "-128"),
        ("c_tinyint_u", plain("c_tinyint_u"), "255"),
        ("c_smallint", plain("c_smallint"), "-32768"),
        ("c_smallint_u", plain("c_smallint_u"), "65535"),
        ("c_mediumint", plain("c_mediumint"), "-8388608"),
        ("c_mediumint_u", plain("c_mediumint_u"), "16777215"),
        ("c_int", plain("c_int"), "-2147483648"),
        ("c_int_u", plain("c_int_u"), "4294967295"),
        ("c_bigint", plain("c_bigint"), "-9223372036854775808"),
        ("c_bigint_u", plain("c_bigint_u"), "-1"),
        ("c_decimal", plain("c_decimal"), "-1234567890123456.7890"),
        ("c_decimal0", plain("c_decimal0"), "9999999999"),
        ("c_float", plain("c_float"), "3.25"),
        (
            "c_double",
            if my {
                "c_double = -2.5e300".into()
            } else {
                "(c_double = -2.5e300)::int".into()
            },
            "1",
        ),
        ("c_char", plain("c_char"), "chär"),
        ("c_varchar", plain("c_varchar"), "héllo wörld ✓"),
        ("c_text", plain("c_text"), "long text"),
        ("c_binary", hex("c_binary"), "01020304"),
        ("c_varbinary", hex("c_varbinary"), "deadbeef"),
        ("c_blob", hex("c_blob"), "00ff00ff"),
        ("c_date", plain("c_date"), "2024-02-29"),
        (
            "c_time",
            plain("c_time"),
            if my { "-12:34:56.000000" } else { "-12:34:56" },
        ),
        ("c_time6", plain("c_time6"), "838:59:59.999999"),
        (
            "c_datetime",
            plain("c_datetime"),
            if my {
                "1970-01-01 00:00:00.000"
            } else {
                "1970-01-01 00:00:00"
            },
        ),
        (
            "c_datetime3",
            plain("c_datetime3"),
            "2024-02-29 23:59:59.999",
        ),
        (
            "c_datetime6",
            plain("c_datetime6"),
            "1999-12-31 23:59:59.123456",
        ),
        (
            "c_timestamp",
            plain("c_timestamp"),
            if my {
                "2024-02-29 12:00:00.000000"
            } else {
                "2024-02-29 12:00:00+00"
            },
        ),
        (
            "c_timestamp6",
            plain("c_timestamp6"),
            if my {
                "2038-01-19 03:14:07.999999"
            } else {
                "2038-01-19 03:14:07.999999+00"
            },
        ),
        ("c_year", plain("c_year"), "2155"),
        ("c_enum", plain("c_enum"), "green"),
        ("c_set", plain("c_set"), "a,c"),
        ("c_bit1", plain("c_bit1"), if my { "1" } else { "t" }),
        (
            "c_bit12",
            if my {
                "BIN(c_bit12)".into()
            } else {
                "c_bit12::text".into()
            },
            "101010101010",
        ),
        ("c_bool", plain("c_bool"), "1"),
        ("c_json", plain("c_json"), r#"{"k": [1, 2, {"x": null}]}"#),
        (
            "c_geom",
            hex("c_geom"),
            "0101000000000000000000f03f0000000000000040",
        ),
    ]
}

async fn every_type_lands_with_its_value(kind: Kind) {
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    let mut db = TestDb::new(kind, "types").await;
    if kind == Kind::Postgres {
        db.exec("SET TIME ZONE 'UTC'").await;
    }
    let t = all_types();
    kafka.create_topic(&t.topic(), 1, 1).expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = sink_config(
        "types",
        &t.topic(),
        &db.url,
        &[
            ("key.converter", AVRO),
            ("value.converter", AVRO),
            ("insert.mode", "upsert"),
            ("pk.mode", "record_key"),
            ("auto.create", "true"),
            ("table.name.format", "${source.table}"),
        ],
    );
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let feed = Feed::avro(
        &bootstrap,
        worker.registry_url.as_deref().expect("registry"),
    );
    let (key, value) = t.event(Op::Read, None, Some(reference_row(&t)));
    feed.send(&t.topic(), None, &key, &value).await;
    // Row 2: every column null. Row 3: the scenario's edge values.
    let (key, value) = t.event(Op::Create, None, Some(t.row(&[("id", Value::Int64(2))])));
    feed.send(&t.topic(), None, &key, &value).await;
    let edge = t.row(&[
        ("id", Value::Int64(3)),
        (
            "c_decimal",
            Value::Bytes(logical::decimal_to_bytes("0.0001", 4).expect("decimal")),
        ),
        ("c_datetime6", Value::Int64(978_307_200_000_001)),
        ("c_date", Value::Int32(-354_285)),
        ("c_time", Value::Int64(0)),
    ]);
    let (key, value) = t.event(Op::Create, None, Some(edge));
    feed.send(&t.topic(), None, &key, &value).await;

    db.wait_rows(
        "the three rows",
        "SELECT id FROM all_types ORDER BY id",
        &[&[s("1")], &[s("2")], &[s("3")]],
        WAIT,
    )
    .await;
    let mut mismatches = Vec::new();
    for (column, expr, expected) in expectations(kind) {
        let got = db
            .scalar(&format!("SELECT {expr} FROM all_types WHERE id = 1"))
            .await;
        if got.as_deref() != Some(expected) {
            mismatches.push(format!("{column}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{kind:?}:\n{}",
        mismatches.join("\n")
    );
    let all_null = db
        .scalar("SELECT COUNT(*) FROM all_types WHERE id = 2 AND c_decimal IS NULL AND c_geom IS NULL AND c_json IS NULL AND c_timestamp IS NULL")
        .await;
    assert_eq!(all_null.as_deref(), Some("1"), "row 2 is all nulls");
    let edge = db
        .rows("SELECT c_decimal, c_datetime6, c_date, c_time FROM all_types WHERE id = 3")
        .await;
    let expected_time = if kind == Kind::MariaDb {
        "00:00:00.000000"
    } else {
        "00:00:00"
    };
    assert_eq!(
        edge,
        vec![vec![
            Some("0.0001".to_owned()),
            Some("2001-01-01 00:00:00.000001".to_owned()),
            Some("1000-01-01".to_owned()),
            Some(expected_time.to_owned()),
        ]]
    );
    worker.shutdown().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mysql_source_type_lands_with_its_value_in_mariadb() {
    every_type_lands_with_its_value(Kind::MariaDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mysql_source_type_lands_with_its_value_in_postgres() {
    every_type_lands_with_its_value(Kind::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// JSON records: hostile identifiers, plain flat records, schemaless records.

const HOSTILE: [&str; 5] = [
    "select",
    "a\"b",
    "c`d",
    "e]f'g",
    "x); DROP TABLE victim; --",
];

async fn hostile_identifiers_and_json_records(kind: Kind) {
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    let mut db = TestDb::new(kind, "hostile").await;
    db.exec("CREATE TABLE victim (id INT)").await;
    for topic in ["weird", "plain"] {
        kafka.create_topic(topic, 1, 1).expect("topic");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let table = "t`a\"b]c'd ${topic}";
    let weird = sink_config(
        "weird",
        "weird",
        &db.url,
        &[
            ("key.converter", JSON),
            ("value.converter", JSON),
            ("insert.mode", "upsert"),
            ("pk.mode", "record_value"),
            ("pk.fields", "select"),
            ("auto.create", "true"),
            ("table.name.format", table),
        ],
    );
    let plain = sink_config(
        "plain",
        "plain",
        &db.url,
        &[
            ("key.converter", JSON),
            ("value.converter", JSON),
            ("value.converter.schemas.enable", "false"),
            ("key.converter.schemas.enable", "false"),
            ("insert.mode", "upsert"),
            ("pk.mode", "record_key"),
            ("delete.enabled", "true"),
            ("auto.create", "true"),
            ("auto.evolve", "true"),
        ],
    );
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![weird, plain]).await;

    // JSON with schemas: a flat struct whose every field name is hostile.
    let feed = Feed::json(&bootstrap, true);
    let schema = HOSTILE
        .iter()
        .fold(SchemaBuilder::structure(), |b, name| {
            let field = if *name == "select" {
                SchemaBuilder::int32().build_ref()
            } else {
                opt_string()
            };
            b.field(*name, field)
        })
        .build_ref();
    for (id, suffix) in [(1, "x"), (2, "y"), (1, "z")] {
        let mut row = Struct::new(schema.clone());
        row.put("select", Value::Int32(id));
        for name in &HOSTILE[1..] {
            row.put(name, Value::from(format!("{name}={suffix}")));
        }
        feed.send(
            "weird",
            None,
            &SchemaAndValue::null(),
            &SchemaAndValue::new(schema.clone(), Value::Struct(row)),
        )
        .await;
    }

    // Schemaless JSON: plain objects, a key object, a new field, a tombstone.
    let raw = Feed::json(&bootstrap, false);
    for (key, value) in [
        (r#"{"id":1}"#, Some(r#"{"id":1,"name":"ann","score":1.5}"#)),
        (r#"{"id":2}"#, Some(r#"{"id":2,"name":"bob","score":2}"#)),
        (
            r#"{"id":3}"#,
            Some(r#"{"id":3,"name":"cy","score":3,"tags":["a","b"]}"#),
        ),
        (r#"{"id":2}"#, None),
    ] {
        raw.send_raw(
            "plain",
            None,
            Some(key.as_bytes()),
            value.map(str::as_bytes),
        )
        .await;
    }

    let cols: Vec<String> = HOSTILE.iter().map(|c| db.q(c)).collect();
    let hostile_table = db.q("t`a\"b]c'd weird");
    db.wait_rows(
        "rows under hostile names",
        &format!(
            "SELECT {} FROM {hostile_table} ORDER BY {}",
            cols.join(", "),
            cols[0]
        ),
        &[
            &[
                s("1"),
                s("a\"b=z"),
                s("c`d=z"),
                s("e]f'g=z"),
                s("x); DROP TABLE victim; --=z"),
            ],
            &[
                s("2"),
                s("a\"b=y"),
                s("c`d=y"),
                s("e]f'g=y"),
                s("x); DROP TABLE victim; --=y"),
            ],
        ],
        WAIT,
    )
    .await;
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM victim").await.as_deref(),
        Some("0"),
        "the table an injection would drop is still there"
    );
    db.wait_rows(
        "schemaless rows with a deleted key and a field added later",
        "SELECT id, name, score, tags FROM plain ORDER BY id",
        &[
            &[s("1"), s("ann"), s("1.5"), None],
            &[s("3"), s("cy"), s("3"), s(r#"["a","b"]"#)],
        ],
        WAIT,
    )
    .await;
    worker.shutdown().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_identifiers_and_json_records_in_mariadb() {
    hostile_identifiers_and_json_records(Kind::MariaDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_identifiers_and_json_records_in_postgres() {
    hostile_identifiers_and_json_records(Kind::Postgres).await;
}

// ---------------------------------------------------------------------------------------
// PostgreSQL: upserts of new keys by COPY straight into the table.

/// Every statement that inserted into `accounts`, as the sink sent it, in order.
async fn applied_statements(db: &mut TestDb) -> Vec<String> {
    db.rows("SELECT query FROM applied ORDER BY n")
        .await
        .into_iter()
        .map(|r| r.into_iter().next().flatten().unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_copies_new_keys_straight_into_the_table_and_merges_batches_with_existing_keys() {
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    kafka.create_topic("accounts", 1, 1).expect("topic");
    let mut db = TestDb::new(Kind::Postgres, "direct").await;
    db.exec(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name TEXT NOT NULL, balance INT NOT NULL); \
         CREATE TABLE applied (n SERIAL, query TEXT); \
         CREATE FUNCTION log_applied() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN INSERT INTO applied (query) VALUES (current_query()); RETURN NULL; END $$; \
         CREATE TRIGGER log_applied AFTER INSERT ON accounts \
         FOR EACH STATEMENT EXECUTE FUNCTION log_applied()",
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = accounts_sink("direct", &db.url, &[]);
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let feed = Feed::json(&bootstrap, true);
    let none = SchemaAndValue::null();
    let rows = |ids: std::ops::RangeInclusive<i64>, balance: i32| -> Vec<_> {
        ids.map(|id| (None, none.clone(), account(id, &format!("n{id}"), balance)))
            .collect()
    };

    feed.send_all("accounts", &rows(1..=300, 1)).await;
    let totals = "SELECT COUNT(*), SUM(balance) FROM accounts";
    db.wait_rows("300 new accounts", totals, &[&[s("300"), s("300")]], WAIT)
        .await;
    let first = applied_statements(&mut db).await;
    assert!(!first.is_empty());
    assert!(
        first.iter().all(|q| q.starts_with("COPY ")),
        "new keys only: every batch copied straight into the table: {first:?}"
    );

    // Existing keys 1-100 updated, new keys 301-400 inserted, in the same batches.
    let mut mixed = rows(1..=100, 5);
    mixed.extend(rows(301..=400, 2));
    feed.send_all("accounts", &mixed).await;
    db.wait_rows(
        "100 updated and 100 more accounts",
        totals,
        &[&[s("400"), s("900")]],
        WAIT,
    )
    .await;
    let later = applied_statements(&mut db).await.split_off(first.len());
    assert!(
        later.iter().any(|q| q.contains("ON CONFLICT")),
        "the batch that met existing keys was merged: {later:?}"
    );
    assert_eq!(
        db.rows("SELECT balance, COUNT(*) FROM accounts GROUP BY balance ORDER BY balance")
            .await,
        vec![
            vec![Some("1".to_owned()), Some("200".to_owned())],
            vec![Some("2".to_owned()), Some("100".to_owned())],
            vec![Some("5".to_owned()), Some("100".to_owned())],
        ],
        "every update and every insert applied once, nothing left of a refused COPY"
    );
    worker.shutdown().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_insert_rules_of_the_target_table_apply_to_every_row() {
    // A COPY does not apply rules (`CREATE RULE … ON INSERT`), where an INSERT does: a table
    // with such rules must never get the direct COPY.
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    kafka.create_topic("accounts", 1, 1).expect("topic");
    let mut db = TestDb::new(Kind::Postgres, "rules").await;
    db.exec(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name TEXT NOT NULL, balance INT NOT NULL); \
         CREATE TABLE inserted (id BIGINT); \
         CREATE RULE log_inserted AS ON INSERT TO accounts DO ALSO \
         INSERT INTO inserted (id) VALUES (NEW.id)",
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = accounts_sink("rules", &db.url, &[("insert.mode", "insert")]);
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let feed = Feed::json(&bootstrap, true);
    let none = SchemaAndValue::null();
    let rows: Vec<_> = (1..=300)
        .map(|id| (None, none.clone(), account(id, &format!("n{id}"), 1)))
        .collect();
    feed.send_all("accounts", &rows).await;
    db.wait_rows(
        "300 accounts",
        "SELECT COUNT(*) FROM accounts",
        &[&[s("300")]],
        WAIT,
    )
    .await;
    assert_eq!(
        db.rows("SELECT COUNT(*), COUNT(DISTINCT id) FROM inserted")
            .await,
        vec![vec![Some("300".to_owned()), Some("300".to_owned())]],
        "the rule ran once for every inserted row"
    );
    worker.shutdown().await;
    db.drop().await;
}
