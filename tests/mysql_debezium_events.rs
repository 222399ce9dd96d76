//! Debezium's recorded scenario (tests/fixtures/debezium-3.6.3-mysql) run through our MySQL
//! source: every column type, written by SQL, captured from the snapshot and the binlog,
//! Avro-encoded through the built-in registry and read back by an independent decoder, equals
//! what Debezium 3.6.3 produced — record by record on every topic (the three table topics and
//! the schema-change topic `PREFIX`), with the same keys, ops, before/after images, tombstones,
//! `source` values, DDL and `tableChanges` — and the schemas we register equal the recorded
//! `.avsc` files. Exempt are only the values that depend on the run (`ts_ms`, `ts_us`, `ts_ns`,
//! `file`, `pos`, `server_id`, `thread`) and the recording's `# Dum…` schema-change records
//! (MariaDB GTID events as a MySQL-mode reader sees them: an artefact of how it was recorded).
//!
//! The server is a fresh private MariaDB started as the recording's was: presented as MySQL
//! 5.7 (`--version=5.7.19-log`, which our connector must not be misled by) with MariaDB's own
//! default server character set (`latin1`, which the snapshot's first schema-change record
//! states). The connector runs with the recorded `connector.json`, plus this run's addresses
//! and the two keys that make our deliberate differences Debezium's again (see the README):
//! `source.version=3.6.3.Final` and `source.gtid.mode=mysql`.
//!
//! The second recording (tests/fixtures/debezium-3.6.3-mysql-no-data) is the same connector
//! with `snapshot.mode=no_data`: no row of the tables before it starts, only the schema-change
//! records of a snapshot (every table of every database, the captured ones or not, the last
//! marked `last`), then streaming; and a restart that must not take that schema snapshot again.

mod debezium_conformance;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use debezium_conformance::{decimal_scales, diff, statements, to_json, PrivateMariaDb};
use mysql_async::prelude::Queryable;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use serde_json::{json, Value as Json};
use support::{consume_all, kafka, start_plain_worker, start_worker, worker_props, Http};
use tributary_runtime::config::ConfigMap;
use tributary_runtime::worker::json_object_to_config;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/debezium-3.6.3-mysql"
);
const NO_DATA_FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/debezium-3.6.3-mysql-no-data"
);
/// The values that depend on the run, in `source` and at the top of every value.
const RUN_DEPENDENT_SOURCE: [&str; 7] = [
    "ts_ms",
    "ts_us",
    "ts_ns",
    "file",
    "pos",
    "server_id",
    "thread",
];
const RUN_DEPENDENT_TOP: [&str; 3] = ["ts_ms", "ts_us", "ts_ns"];
/// The private server: its name under scripts/mariadb.sh, its port, and the recording's
/// conditions.
const SERVER: &str = "dbzconform";
const PORT: u16 = 3338;
const NO_DATA_SERVER: &str = "dbznodata";
const NO_DATA_PORT: u16 = 3324;
const RECORDING_CONDITIONS: [&str; 3] = [
    "--version=5.7.19-log",
    "--character-set-server=latin1",
    "--collation-server=latin1_swedish_ci",
];
/// The keys that restore Debezium's behaviour where ours deliberately differs.
const DEBEZIUM_COMPATIBLE: [(&str, &str); 2] = [
    ("source.version", "3.6.3.Final"),
    ("source.gtid.mode", "mysql"),
];

fn strip_run_dependent(mut value: Json) -> Json {
    if let Some(source) = value.get_mut("source").and_then(Json::as_object_mut) {
        for k in RUN_DEPENDENT_SOURCE {
            source.remove(k);
        }
    }
    if let Some(obj) = value.as_object_mut() {
        for k in RUN_DEPENDENT_TOP {
            obj.remove(k);
        }
    }
    value
}

/// A recorded record that is not behaviour to compare: the `# Dum…` schema changes.
fn is_recording_artefact(event: &Json) -> bool {
    event["value"]["ddl"]
        .as_str()
        .is_some_and(|ddl| ddl.starts_with("# Dum"))
}

/// `PREFIX.refdb.all_types-value.v2.avsc` → (`PREFIX.refdb.all_types-value`, 2).
fn subject_version(file_name: &str) -> Option<(String, u32)> {
    let stem = file_name.strip_suffix(".avsc")?;
    let (subject, version) = stem.rsplit_once(".v")?;
    Some((subject.to_owned(), version.parse().ok()?))
}

async fn decode(decoder: &AvroDecoder, bytes: &Option<Vec<u8>>, what: &str) -> Json {
    let Some(bytes) = bytes else {
        return Json::Null;
    };
    let d = decoder
        .decode_with_schema(Some(bytes))
        .await
        .unwrap_or_else(|e| panic!("{what} decodes: {e}"))
        .unwrap_or_else(|| panic!("{what} has a schema"));
    let mut scales = BTreeMap::new();
    decimal_scales(
        &serde_json::from_str(&d.schema.raw).unwrap_or(Json::Null),
        &mut scales,
    );
    to_json(&d.value, "", &scales)
}

/// Every registered schema against the recorded `.avsc` files: the same subjects, the same
/// versions, and each version equal after parsing.
async fn schema_differences(fixtures: &str, registry: &str) -> Vec<String> {
    let http = Http::new(registry.to_owned());
    let mut recorded: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(fixtures)
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".avsc"))
        .collect();
    files.sort();
    for file in files {
        let (subject, version) =
            subject_version(&file).unwrap_or_else(|| panic!("{file}: not <subject>.v<N>.avsc"));
        recorded.entry(subject.clone()).or_default().insert(version);
        let want: Json = serde_json::from_str(
            &std::fs::read_to_string(format!("{fixtures}/{file}")).expect("avsc"),
        )
        .expect("avsc is JSON");
        let (code, body) = http
            .get(&format!("/subjects/{subject}/versions/{version}"))
            .await;
        if code != 200 {
            out.push(format!(
                "schema {subject} v{version}: not registered ({code} {body})"
            ));
            continue;
        }
        let ours: Json = body["schema"]
            .as_str()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(Json::Null);
        diff(
            &format!("schema {subject} v{version}"),
            &want,
            &ours,
            &mut out,
        );
    }
    let (_, subjects) = http.get("/subjects").await;
    let ours: BTreeSet<String> = subjects
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    let theirs: BTreeSet<String> = recorded.keys().cloned().collect();
    if ours != theirs {
        out.push(format!("subjects: debezium {theirs:?}, ours {ours:?}"));
    }
    for (subject, versions) in &recorded {
        let (_, body) = http.get(&format!("/subjects/{subject}/versions")).await;
        let ours: BTreeSet<u32> = body
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_u64().and_then(|v| u32::try_from(v).ok()))
            .collect();
        if &ours != versions {
            out.push(format!(
                "subject {subject}: debezium has versions {versions:?}, ours {ours:?}"
            ));
        }
    }
    out
}

/// Every record of the recording in `fixtures`, in order.
fn recorded_events(fixtures: &str) -> Vec<Json> {
    std::fs::read_to_string(format!("{fixtures}/events.jsonl"))
        .expect("events")
        .lines()
        .map(|l| serde_json::from_str(l).expect("event JSON"))
        .collect()
}

/// The recorded `connector.json` with its property names unchanged; this run's addresses of
/// the database, broker and registry (none: the worker's own), and the keys that restore
/// Debezium's behaviour.
fn recorded_config(
    fixtures: &str,
    db_port: u16,
    bootstrap: &str,
    registry: Option<&str>,
) -> ConfigMap {
    let recorded: Json = serde_json::from_str(
        &std::fs::read_to_string(format!("{fixtures}/connector.json")).expect("connector.json"),
    )
    .expect("JSON");
    let mut config = json_object_to_config(&recorded["config"]).expect("config map");
    config.insert("database.hostname".into(), "127.0.0.1".into());
    config.insert("database.port".into(), db_port.to_string());
    for key in [
        "key.converter.schema.registry.url",
        "value.converter.schema.registry.url",
    ] {
        match registry {
            Some(url) => config.insert(key.into(), url.into()),
            None => config.remove(key),
        };
    }
    config.insert(
        "schema.history.internal.kafka.bootstrap.servers".into(),
        bootstrap.into(),
    );
    for (k, v) in DEBEZIUM_COMPATIBLE {
        config.insert(k.into(), v.into());
    }
    config.insert("name".into(), "PREFIX".into());
    config
}

/// Where the records of `topics` differ from the recording's (artefacts left out), record by
/// record, and in number (each topic read for up to 60 s, then 0.5 s more for extra records).
async fn topic_differences(
    bootstrap: &str,
    registry: &str,
    recorded: &[Json],
    topics: &[String],
) -> Vec<String> {
    let decoder = AvroDecoder::new(SrSettings::new(registry.to_owned()));
    let mut differences = Vec::new();
    for topic in topics {
        let expected: Vec<&Json> = recorded
            .iter()
            .filter(|e| e["topic"] == json!(topic) && !is_recording_artefact(e))
            .collect();
        let (b, tp, n) = (bootstrap.to_owned(), topic.clone(), expected.len());
        let records =
            tokio::task::spawn_blocking(move || consume_all(&b, &tp, n, Duration::from_secs(60)))
                .await
                .expect("consume");
        if records.len() != expected.len() {
            differences.push(format!(
                "{topic}: {} records within 60 s, Debezium had {}",
                records.len(),
                expected.len()
            ));
        }
        for (i, ((_, _, key, value), want)) in records.iter().zip(&expected).enumerate() {
            let got = json!({
                "key": decode(&decoder, key, &format!("{topic} record {i} key")).await,
                "value": strip_run_dependent(decode(&decoder, value, &format!("{topic} record {i} value")).await),
            });
            let want =
                json!({"key": want["key"], "value": strip_run_dependent(want["value"].clone())});
            diff(&format!("{topic}[{i}]"), &want, &got, &mut differences);
        }
    }
    differences
}

/// The recording's topics, in the order they first appear.
fn recorded_topics(recorded: &[Json]) -> Vec<String> {
    let mut topics: Vec<String> = Vec::new();
    for t in recorded.iter().filter_map(|e| e["topic"].as_str()) {
        if !topics.iter().any(|known| known == t) {
            topics.push(t.to_owned());
        }
    }
    topics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_debezium_scenario_produces_the_same_events() {
    let server = tokio::task::spawn_blocking(|| {
        PrivateMariaDb::start_fresh(SERVER, PORT, &RECORDING_CONDITIONS)
    })
    .await
    .expect("start the private MariaDB");
    let mut conn = mysql_async::Conn::from_url(server.url())
        .await
        .expect("the private MariaDB answers");
    let script = std::fs::read_to_string(format!("{FIXTURES}/scenario.sql")).expect("scenario");
    let (setup, streaming) = script
        .split_once("-- while streaming")
        .expect("the scenario has two parts");
    run_statements(&mut conn, setup).await;

    let kafka = kafka();
    let tables = ["all_types", "composite", "no_pk"];
    let topics: Vec<String> = std::iter::once("PREFIX".to_owned())
        .chain(tables.iter().map(|t| format!("PREFIX.refdb.{t}")))
        .collect();
    for topic in &topics {
        kafka.create_topic(topic, 1, 1).expect("topic");
    }
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![]).await;
    let registry = worker.registry_url.clone().expect("registry");

    let config = recorded_config(FIXTURES, server.port(), &bootstrap, Some(&registry));
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let (code, body) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "PREFIX", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "the recorded config is accepted: {body}");

    // Streaming part once the snapshot is in (its last table's one row).
    let (b, t) = (bootstrap.clone(), "PREFIX.refdb.no_pk".to_owned());
    let snap = tokio::task::spawn_blocking(move || consume_all(&b, &t, 1, Duration::from_secs(60)))
        .await
        .expect("consume");
    assert_eq!(
        snap.len(),
        1,
        "the snapshot reached the last table within 60 s"
    );
    run_statements(&mut conn, streaming).await;

    let recorded = recorded_events(FIXTURES);
    let mut differences = topic_differences(&bootstrap, &registry, &recorded, &topics).await;
    differences.extend(schema_differences(FIXTURES, &registry).await);
    worker.shutdown().await;
    drop(conn);
    drop(server);
    assert!(
        differences.is_empty(),
        "{} differences from Debezium 3.6.3 (path: Debezium's value, ours):\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// What the no-data scenario's last part (after the restart) adds to the recording's topics:
/// the parts before it are in Kafka when every topic has the rest.
const NO_DATA_AFTER_RESTART: [(&str, usize); 1] = [("PREFIX.nodata.orders", 1)];

async fn run_statements(conn: &mut mysql_async::Conn, script: &str) {
    for s in statements(script) {
        conn.query_drop(&s)
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

/// The topics the broker has (the mock cluster creates one on the first record produced to it).
fn topics_in_cluster(bootstrap: &str) -> BTreeSet<String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("metadata client");
    consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("the broker's metadata")
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_no_data_scenario_produces_the_same_events() {
    let server = tokio::task::spawn_blocking(|| {
        PrivateMariaDb::start_fresh(NO_DATA_SERVER, NO_DATA_PORT, &RECORDING_CONDITIONS)
    })
    .await
    .expect("start the private MariaDB");
    let mut conn = mysql_async::Conn::from_url(server.url())
        .await
        .expect("the private MariaDB answers");
    let script =
        std::fs::read_to_string(format!("{NO_DATA_FIXTURES}/scenario.sql")).expect("scenario");
    let (setup, rest) = script
        .split_once("-- while streaming")
        .expect("the scenario has a streaming part");
    let (streaming, after_restart) = rest
        .split_once("-- after the connector restarted")
        .expect("the scenario has a part after the restart");
    run_statements(&mut conn, setup).await;

    let recorded = recorded_events(NO_DATA_FIXTURES);
    let topics = recorded_topics(&recorded);
    let kafka = kafka();
    for topic in &topics {
        kafka.create_topic(topic, 1, 1).expect("topic");
    }
    // Schemas must outlive the worker across the restart: the registry keeps them in Kafka.
    kafka
        .create_topic("_schemas", 1, 1)
        .expect("registry topic");
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let props = worker_props(
        &bootstrap,
        dir.path(),
        &[("schema.registry.storage", "kafka")],
    );
    let worker = start_worker(&props, tributary_connectors::plugins(), vec![]).await;
    // The worker's own registry: it moves with the worker to its new port after the restart.
    let config = recorded_config(NO_DATA_FIXTURES, server.port(), &bootstrap, None);
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let (code, body) = api
        .call(
            "POST",
            "/connectors",
            Some(json!({"name": "PREFIX", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "the recorded config is accepted: {body}");

    // The streaming part once the schema snapshot is in (up to its record marked `last`).
    let snapshot_records = recorded
        .iter()
        .filter(|e| e["topic"] == "PREFIX" && e["value"]["source"]["snapshot"] != "false")
        .count();
    let b = bootstrap.clone();
    let snap = tokio::task::spawn_blocking(move || {
        consume_all(&b, "PREFIX", snapshot_records, Duration::from_secs(60))
    })
    .await
    .expect("consume");
    assert_eq!(
        snap.len(),
        snapshot_records,
        "the schema snapshot's records within 60 s (and no more)"
    );
    run_statements(&mut conn, streaming).await;

    // Restart once every change of the streaming part is in Kafka (so that its offset is stored).
    for topic in &topics {
        let later = NO_DATA_AFTER_RESTART
            .iter()
            .find(|(t, _)| t == topic)
            .map_or(0, |(_, n)| *n);
        let n = recorded
            .iter()
            .filter(|e| e["topic"] == json!(topic) && !is_recording_artefact(e))
            .count()
            - later;
        let (b, t) = (bootstrap.clone(), topic.clone());
        let got =
            tokio::task::spawn_blocking(move || consume_all(&b, &t, n, Duration::from_secs(60)))
                .await
                .expect("consume");
        assert!(
            got.len() >= n,
            "{topic}: the streaming part's {n} records within 60 s, got {}",
            got.len()
        );
    }
    worker.shutdown().await;
    let worker = start_worker(&props, tributary_connectors::plugins(), vec![]).await;
    let registry = worker.registry_url.clone().expect("registry");
    Http::new(format!("http://{}", worker.rest_addr))
        .wait_state("PREFIX", "RUNNING", Duration::from_secs(30))
        .await;
    run_statements(&mut conn, after_restart).await;

    let mut differences = topic_differences(&bootstrap, &registry, &recorded, &topics).await;
    differences.extend(schema_differences(NO_DATA_FIXTURES, &registry).await);
    // Nothing went to a topic Debezium did not write (the tables the filters leave out).
    let b = bootstrap.clone();
    let cluster = tokio::task::spawn_blocking(move || topics_in_cluster(&b))
        .await
        .expect("metadata");
    for extra in cluster
        .iter()
        .filter(|t| t.starts_with("PREFIX") && !topics.contains(t))
    {
        differences.push(format!("{extra}: a topic Debezium did not write"));
    }
    worker.shutdown().await;
    drop(conn);
    drop(server);
    assert!(
        differences.is_empty(),
        "{} differences from Debezium 3.6.3 with snapshot.mode=no_data (path: Debezium's value, ours):\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[test]
fn avsc_file_names_are_subject_and_version() {
    assert_eq!(
        subject_version("PREFIX.refdb.all_types-value.v2.avsc"),
        Some(("PREFIX.refdb.all_types-value".into(), 2))
    );
    assert_eq!(
        subject_version("PREFIX-key.v1.avsc"),
        Some(("PREFIX-key".into(), 1))
    );
}
