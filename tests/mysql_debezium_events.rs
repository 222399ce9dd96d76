//! Debezium's recorded scenario (tests/fixtures/debezium-3.6.3-mysql) run through our MySQL
//! source: every column type, written by SQL, captured from the snapshot and the binlog,
//! Avro-encoded through the built-in registry and read back by an independent decoder, equals
//! what Debezium 3.6.3 produced — record by record, per table topic, with the same keys, ops,
//! before/after images, tombstones and `source` values (apart from values that depend on the
//! run). The schema-change topic is compared by the conformance suite, not here.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use apache_avro::types::Value as Avro;
use base64::Engine;
use mysql_async::prelude::Queryable;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::{json, Value as Json};
use support::{consume_all, kafka, start_worker, worker_props};
use tributary_runtime::worker::json_object_to_config;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/debezium-3.6.3-mysql"
);
/// Source fields whose values depend on the run, plus two that depend on the product:
/// `version` (ours is Tributary's), and `gtid`: the recording ran Debezium's MySQL connector
/// against MariaDB disguised as MySQL 5.7, whose reader cannot see MariaDB GTIDs and so wrote
/// null; we report MariaDB's GTID (`domain-server-sequence`), as Debezium's MariaDB connector
/// does.
const RUN_DEPENDENT: [&str; 9] = [
    "ts_ms",
    "ts_us",
    "ts_ns",
    "file",
    "pos",
    "server_id",
    "thread",
    "version",
    "gtid",
];

/// Statements of a SQL script, split at semicolons outside quotes; comments dropped.
fn statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for line in script.lines() {
        if quote.is_none() && line.trim_start().starts_with("--") {
            continue;
        }
        for c in line.chars() {
            match (quote, c) {
                (None, '\'' | '"' | '`') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, ';') => {
                    if !current.trim().is_empty() {
                        out.push(current.trim().to_owned());
                    }
                    current.clear();
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        current.push('\n');
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_owned());
    }
    out
}

/// Decimal scales of the record fields of a writer schema, by field name.
fn decimal_scales(schema: &Json, out: &mut BTreeMap<String, u32>) {
    match schema {
        Json::Object(o) => {
            if let (Some(Json::String(name)), Some(t)) = (o.get("name"), o.get("type")) {
                let inner = match t {
                    Json::Array(branches) => branches
                        .iter()
                        .find(|b| b.is_object())
                        .cloned()
                        .unwrap_or(Json::Null),
                    other => other.clone(),
                };
                if inner.get("logicalType") == Some(&json!("decimal")) {
                    out.insert(
                        name.clone(),
                        inner.get("scale").and_then(Json::as_u64).unwrap_or(0) as u32,
                    );
                }
            }
            for v in o.values() {
                decimal_scales(v, out);
            }
        }
        Json::Array(a) => a.iter().for_each(|v| decimal_scales(v, out)),
        _ => {}
    }
}

/// An independently decoded Avro value in the recording's JSON form.
fn to_json(v: &Avro, field: &str, scales: &BTreeMap<String, u32>) -> Json {
    match v {
        Avro::Union(_, inner) => to_json(inner, field, scales),
        Avro::Null => Json::Null,
        Avro::Boolean(b) => json!(b),
        Avro::Int(i) | Avro::Date(i) => json!(i),
        Avro::Long(i) => json!(i),
        Avro::Float(f) => json!(f64::from(*f)),
        Avro::Double(f) => json!(f),
        Avro::String(s) | Avro::Enum(_, s) => json!(s),
        Avro::Bytes(b) | Avro::Fixed(_, b) => {
            json!({"base64": base64::engine::general_purpose::STANDARD.encode(b)})
        }
        Avro::Decimal(d) => {
            let bytes = Vec::<u8>::try_from(d).unwrap_or_default();
            json!({"decimal": tributary_runtime::data::logical::decimal_from_bytes(&bytes, scales.get(field).copied().unwrap_or(0))})
        }
        Avro::Array(items) => {
            Json::Array(items.iter().map(|i| to_json(i, field, scales)).collect())
        }
        Avro::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(n, v)| (n.clone(), to_json(v, n, scales)))
                .collect(),
        ),
        other => json!(format!("{other:?}")),
    }
}

fn strip_run_dependent(mut value: Json) -> Json {
    if let Some(source) = value.get_mut("source").and_then(Json::as_object_mut) {
        for k in RUN_DEPENDENT {
            source.remove(k);
        }
    }
    if let Some(obj) = value.as_object_mut() {
        for k in ["ts_ms", "ts_us", "ts_ns"] {
            obj.remove(k);
        }
    }
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_debezium_scenario_produces_the_same_events() {
    let url = std::env::var("TRIBUTARY_TEST_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3317".into());
    let mut conn = mysql_async::Conn::from_url(url.clone())
        .await
        .expect("the binlog MariaDB of scripts/mariadb.sh answers");
    let script = std::fs::read_to_string(format!("{FIXTURES}/scenario.sql")).expect("scenario");
    let (setup, streaming) = script
        .split_once("-- while streaming")
        .expect("the scenario has two parts");
    for s in statements(setup) {
        conn.query_drop(&s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }

    let kafka = kafka();
    let tables = ["all_types", "composite", "no_pk"];
    kafka.create_topic("PREFIX", 1, 1).expect("topic");
    for t in tables {
        kafka
            .create_topic(&format!("PREFIX.refdb.{t}"), 1, 1)
            .expect("topic");
    }
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = start_worker(
        &worker_props(&bootstrap, dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![],
    )
    .await;
    let registry = worker.registry_url.clone().expect("registry");

    // The recorded connector.json with its property names unchanged; only the addresses of
    // this run's database, broker and registry differ.
    let recorded: Json = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/connector.json")).expect("connector.json"),
    )
    .expect("JSON");
    let mut config = json_object_to_config(&recorded["config"]).expect("config map");
    let hostport = url
        .rsplit('@')
        .next()
        .unwrap_or("127.0.0.1:3317")
        .trim_end_matches('/');
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    config.insert("database.hostname".into(), host.into());
    config.insert("database.port".into(), port.into());
    config.insert("key.converter.schema.registry.url".into(), registry.clone());
    config.insert(
        "value.converter.schema.registry.url".into(),
        registry.clone(),
    );
    config.insert(
        "schema.history.internal.kafka.bootstrap.servers".into(),
        bootstrap.clone(),
    );
    config.insert("name".into(), "PREFIX".into());
    let api = support::Http::new(format!("http://{}", worker.rest_addr));
    let (code, body) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "PREFIX", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "the recorded config is accepted: {body}");

    // Streaming part once the snapshot is in.
    let (b, t) = (bootstrap.clone(), "PREFIX.refdb.no_pk".to_owned());
    let snap = tokio::task::spawn_blocking(move || consume_all(&b, &t, 1, Duration::from_secs(60)))
        .await
        .expect("consume");
    assert_eq!(snap.len(), 1, "the snapshot reached the last table");
    for s in statements(streaming) {
        conn.query_drop(&s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }

    let recorded_events: Vec<Json> = std::fs::read_to_string(format!("{FIXTURES}/events.jsonl"))
        .expect("events")
        .lines()
        .map(|l| serde_json::from_str(l).expect("event JSON"))
        .collect();
    let decoder = AvroDecoder::new(SrSettings::new(registry.clone()));
    let mut differences = Vec::new();
    for t in tables {
        let topic = format!("PREFIX.refdb.{t}");
        let expected: Vec<&Json> = recorded_events
            .iter()
            .filter(|e| e["topic"] == json!(topic))
            .collect();
        let (b, tp, n) = (bootstrap.clone(), topic.clone(), expected.len());
        let records =
            tokio::task::spawn_blocking(move || consume_all(&b, &tp, n, Duration::from_secs(60)))
                .await
                .expect("consume");
        if records.len() != expected.len() {
            differences.push(format!(
                "{topic}: {} records, Debezium had {}",
                records.len(),
                expected.len()
            ));
        }
        for (i, ((_, _, key, value), want)) in records.iter().zip(&expected).enumerate() {
            let mut got = json!({});
            got["key"] = match key {
                None => Json::Null,
                Some(k) => {
                    let d = decoder
                        .decode_with_schema(Some(k))
                        .await
                        .expect("key decodes")
                        .expect("a key");
                    let mut scales = BTreeMap::new();
                    decimal_scales(
                        &serde_json::from_str(&d.schema.raw).unwrap_or(Json::Null),
                        &mut scales,
                    );
                    to_json(&d.value, "", &scales)
                }
            };
            got["value"] = match value {
                None => Json::Null,
                Some(v) => {
                    let d = decoder
                        .decode_with_schema(Some(v))
                        .await
                        .expect("value decodes")
                        .expect("a value");
                    let mut scales = BTreeMap::new();
                    decimal_scales(
                        &serde_json::from_str(&d.schema.raw).unwrap_or(Json::Null),
                        &mut scales,
                    );
                    strip_run_dependent(to_json(&d.value, "", &scales))
                }
            };
            let want = json!({"key": want["key"], "value": if want["value"].is_null() { Json::Null } else { strip_run_dependent(want["value"].clone()) }});
            if got != want {
                differences.push(format!(
                    "{topic} record {i}:\n  ours:     {got}\n  debezium: {want}"
                ));
            }
        }
    }
    worker.shutdown().await;
    assert!(
        differences.is_empty(),
        "{} differences from Debezium 3.6.3:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
