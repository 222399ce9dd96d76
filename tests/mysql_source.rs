//! The MySQL/MariaDB source against a real MariaDB with binlog (scripts/mariadb.sh, port 3317):
//! snapshot, streaming of inserts/updates/deletes/truncates/DDL, transactions, tables without a
//! primary key, and exact resume after restarts. Kafka is librdkafka's mock cluster; events are
//! read back through the built-in registry with an independent Avro decoder.
//! (librdkafka's mock cluster keeps about 5 MB per partition, so these tests stay below that.)

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use apache_avro::types::Value as Avro;
use mysql_async::prelude::Queryable;
use schema_registry_converter::async_impl::avro::AvroDecoder;
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use support::{
    consume_all, consume_all_with_headers, kafka, map, start_worker, wait_for, worker_props, Http,
    Kafka,
};
use tributary_runtime::config::ConfigMap;
use tributary_runtime::record::Headers;

fn mariadb_url() -> String {
    std::env::var("TRIBUTARY_TEST_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3317".into())
}

async fn admin() -> mysql_async::Conn {
    mysql_async::Conn::from_url(mariadb_url())
        .await
        .expect("the binlog MariaDB of scripts/mariadb.sh (port 3317) answers")
}

/// A fresh database for one test.
async fn database(name: &str) -> (mysql_async::Conn, String) {
    let mut conn = admin().await;
    let db = format!("{name}_{}", support::uniq() % 1_000_000);
    conn.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
        .await
        .expect("drop");
    conn.query_drop(format!("CREATE DATABASE {db}"))
        .await
        .expect("create");
    conn.query_drop(format!("USE {db}")).await.expect("use");
    (conn, db)
}

fn connector(db: &str, prefix: &str, extra: &[(&str, &str)]) -> ConfigMap {
    let url = mariadb_url();
    let hostport = url
        .rsplit('@')
        .next()
        .unwrap_or("127.0.0.1:3317")
        .trim_end_matches('/');
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let mut c = map(&[
        ("name", prefix),
        (
            "connector.class",
            "io.debezium.connector.mysql.MySqlConnector",
        ),
        ("database.hostname", host),
        ("database.port", port),
        ("database.user", "root"),
        ("database.password", ""),
        ("topic.prefix", prefix),
        ("database.include.list", db),
        ("key.converter", "io.confluent.connect.avro.AvroConverter"),
        ("value.converter", "io.confluent.connect.avro.AvroConverter"),
        ("poll.interval.ms", "100"),
    ]);
    for (k, v) in extra {
        c.insert((*k).into(), (*v).into());
    }
    c
}

fn topics(kafka: &Kafka, prefix: &str, db: &str, tables: &[&str]) {
    kafka
        .create_topic(prefix, 1, 1)
        .expect("schema change topic");
    for t in tables {
        kafka
            .create_topic(&format!("{prefix}.{db}.{t}"), 1, 1)
            .expect("table topic");
    }
}

fn field<'a>(v: &'a Avro, name: &str) -> &'a Avro {
    let v = match v {
        Avro::Union(_, inner) => inner,
        other => other,
    };
    match v {
        Avro::Record(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or(&Avro::Null),
        _ => &Avro::Null,
    }
}

fn plain(v: &Avro) -> Avro {
    match v {
        Avro::Union(_, inner) => plain(inner),
        other => other.clone(),
    }
}

/// (op, key id, after.v) of every record of a topic, decoded through the registry.
async fn events(
    bootstrap: &str,
    registry: &str,
    topic: &str,
    expected: usize,
) -> Vec<(String, Avro, Avro)> {
    let (b, t) = (bootstrap.to_owned(), topic.to_owned());
    let records =
        tokio::task::spawn_blocking(move || consume_all(&b, &t, expected, Duration::from_secs(60)))
            .await
            .expect("consume");
    let decoder = AvroDecoder::new(SrSettings::new(registry.to_owned()));
    let mut out = Vec::new();
    for (_, _, key, value) in records {
        let key = match key {
            Some(k) => decoder.decode(Some(&k)).await.expect("key decodes").value,
            None => Avro::Null,
        };
        match value {
            None => out.push(("tombstone".into(), key, Avro::Null)),
            Some(v) => {
                let v = decoder.decode(Some(&v)).await.expect("value decodes").value;
                let op = match plain(field(&v, "op")) {
                    Avro::String(s) => s,
                    other => format!("{other:?}"),
                };
                let row = if op == "d" {
                    field(&v, "before").clone()
                } else {
                    field(&v, "after").clone()
                };
                out.push((op, key, row));
            }
        }
    }
    out
}

/// The `source` block of every change event of a topic (tombstones left out).
async fn sources(bootstrap: &str, registry: &str, topic: &str, expected: usize) -> Vec<Avro> {
    let (b, t) = (bootstrap.to_owned(), topic.to_owned());
    let records =
        tokio::task::spawn_blocking(move || consume_all(&b, &t, expected, Duration::from_secs(60)))
            .await
            .expect("consume");
    let decoder = AvroDecoder::new(SrSettings::new(registry.to_owned()));
    let mut out = Vec::new();
    for (_, _, _, value) in records {
        if let Some(v) = value {
            let v = decoder.decode(Some(&v)).await.expect("value decodes").value;
            out.push(field(&v, "source").clone());
        }
    }
    out
}

fn ops(events: &[(String, Avro, Avro)]) -> Vec<&str> {
    events.iter().map(|(op, _, _)| op.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_then_streaming_in_debezium_shape() {
    let (mut conn, db) = database("cdc_basic").await;
    conn.query_drop("CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(20), price DECIMAL(10,2))")
        .await
        .expect("table");
    conn.query_drop("CREATE TABLE nokey (a INT, b VARCHAR(10))")
        .await
        .expect("table");
    conn.query_drop("INSERT INTO items VALUES (1, 'one', 1.50), (2, 'two', 2.25)")
        .await
        .expect("rows");
    conn.query_drop("INSERT INTO nokey VALUES (1, 'x')")
        .await
        .expect("rows");

    let kafka = kafka();
    let prefix = "cdc1";
    topics(&kafka, prefix, &db, &["items", "nokey"]);
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = start_worker(
        &worker_props(&bootstrap, dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![connector(&db, prefix, &[])],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    let registry = worker.registry_url.clone().expect("registry");
    let items = format!("{prefix}.{db}.items");

    wait_for(
        "the snapshot to publish both rows",
        Duration::from_secs(30),
        || async {
            let (_, s) = api.get(&format!("/connectors/{prefix}/status")).await;
            let _ = s;
            let e = events(&bootstrap, &registry, &items, 2).await;
            (e.len() >= 2).then_some(())
        },
    )
    .await;

    conn.query_drop("INSERT INTO items VALUES (3, 'three', 3.00)")
        .await
        .expect("insert");
    conn.query_drop("UPDATE items SET v = 'uno' WHERE id = 1")
        .await
        .expect("update");
    conn.query_drop("DELETE FROM items WHERE id = 2")
        .await
        .expect("delete");
    conn.query_drop("START TRANSACTION").await.expect("begin");
    conn.query_drop("INSERT INTO items VALUES (4, 'four', 4.00), (5, 'five', 5.00)")
        .await
        .expect("multi");
    conn.query_drop("UPDATE items SET id = 50 WHERE id = 5")
        .await
        .expect("key change");
    conn.query_drop("COMMIT").await.expect("commit");
    conn.query_drop("UPDATE nokey SET b = 'y'")
        .await
        .expect("nokey update");

    // r r | c u d tombstone | c c d tombstone c
    let expected = [
        "r",
        "r",
        "c",
        "u",
        "d",
        "tombstone",
        "c",
        "c",
        "d",
        "tombstone",
        "c",
    ];
    let e = wait_for(
        "every streamed change of items",
        Duration::from_secs(60),
        || async {
            let e = events(&bootstrap, &registry, &items, expected.len()).await;
            (e.len() >= expected.len()).then_some(e)
        },
    )
    .await;
    assert_eq!(ops(&e), expected, "{e:#?}");
    assert_eq!(field(&e[3].1, "id"), &Avro::Int(1));
    assert_eq!(plain(field(&e[3].2, "v")), Avro::String("uno".into()));
    assert_eq!(
        field(&e[10].1, "id"),
        &Avro::Int(50),
        "the key change ends with a create of the new key"
    );
    // Debezium's headers on the halves of the key change (the tombstone keeps the delete's),
    // each the other key as Kafka Connect's default header converter writes it; none elsewhere.
    let (b, t, n) = (bootstrap.clone(), items.clone(), expected.len());
    let headers: Vec<Headers> = tokio::task::spawn_blocking(move || {
        consume_all_with_headers(&b, &t, n, Duration::from_secs(60))
    })
    .await
    .expect("consume")
    .into_iter()
    .map(|(_, h)| h)
    .collect();
    let header = |name: &str, key: &str| vec![(name.to_owned(), Some(key.as_bytes().to_vec()))];
    let mut want = vec![Headers::new(); expected.len()];
    want[8] = header("__debezium.newkey", r#"{"id":50}"#);
    want[9] = header("__debezium.newkey", r#"{"id":50}"#);
    want[10] = header("__debezium.oldkey", r#"{"id":5}"#);
    assert_eq!(headers, want);
    // Without `source.version` and `source.gtid.mode` (see the README's deliberate
    // differences): Tributary's version, and the streamed insert's MariaDB GTID.
    let s = sources(&bootstrap, &registry, &items, expected.len()).await;
    let insert = s.get(2).expect("the source of the streamed insert");
    assert_eq!(
        plain(field(insert, "version")),
        Avro::String(tributary_connectors::mysql::SOURCE_VERSION.into())
    );
    match plain(field(insert, "gtid")) {
        Avro::String(g) => assert!(
            g.split('-').count() == 3 && g.split('-').all(|n| n.parse::<u64>().is_ok()),
            "MariaDB's domain-server-sequence, not {g}"
        ),
        other => panic!("source.gtid is MariaDB's GTID by default, not {other:?}"),
    }
    let nokey = events(&bootstrap, &registry, &format!("{prefix}.{db}.nokey"), 2).await;
    assert_eq!(ops(&nokey), ["r", "u"]);
    assert_eq!(
        nokey[0].1,
        Avro::Null,
        "a table without a primary key has null keys"
    );

    let (_, subjects) = Http::new(registry.clone()).get("/subjects").await;
    assert!(
        subjects.as_array().is_some_and(|s| s
            .iter()
            .any(|s| s == &serde_json::json!(format!("{items}-value")))),
        "{subjects}"
    );
    worker.shutdown().await;
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}

/// A database with table `t (id, v)`, and what a worker that is stopped and started again
/// needs: its Kafka, its state folder and properties with the registry kept in Kafka.
struct Restartable {
    conn: mysql_async::Conn,
    db: String,
    kafka: Kafka,
    bootstrap: String,
    dir: tempfile::TempDir,
    props: ConfigMap,
}

async fn restartable(label: &str, prefix: &str) -> Restartable {
    let (mut conn, db) = database(label).await;
    conn.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .expect("table");
    let kafka = kafka();
    topics(&kafka, prefix, &db, &["t"]);
    // Schemas must outlive the worker, as in production: the registry keeps them in Kafka.
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
    Restartable {
        conn,
        db,
        kafka,
        bootstrap,
        dir,
        props,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_exactly_and_ddl_brings_a_new_schema_version() {
    let prefix = "cdc2";
    let Restartable {
        mut conn,
        db,
        kafka: _kafka,
        bootstrap,
        dir: _dir,
        props,
    } = restartable("cdc_resume", prefix).await;
    let topic = format!("{prefix}.{db}.t");

    let worker = start_worker(
        &props,
        tributary_connectors::plugins(),
        vec![connector(&db, prefix, &[])],
    )
    .await;
    let registry = worker.registry_url.clone().expect("registry");
    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    for i in 0..50 {
        conn.exec_drop("INSERT INTO t VALUES (?, ?)", (i, i))
            .await
            .expect("insert");
    }
    wait_for("the first 50 inserts", Duration::from_secs(60), || async {
        (events(&bootstrap, &registry, &topic, 50).await.len() >= 50).then_some(())
    })
    .await;
    worker.shutdown().await;

    // While the connector is down: more changes and a schema change.
    for i in 50..80 {
        conn.exec_drop("INSERT INTO t VALUES (?, ?)", (i, i))
            .await
            .expect("insert");
    }
    conn.query_drop("ALTER TABLE t ADD COLUMN note VARCHAR(10) DEFAULT 'n'")
        .await
        .expect("alter");
    conn.query_drop("INSERT INTO t (id, v) VALUES (100, 100)")
        .await
        .expect("insert after alter");

    let worker = start_worker(&props, tributary_connectors::plugins(), vec![]).await;
    let registry = worker.registry_url.clone().expect("registry");
    let e = wait_for(
        "81 events after the restart",
        Duration::from_secs(60),
        || async {
            let e = events(&bootstrap, &registry, &topic, 81).await;
            (e.len() >= 81).then_some(e)
        },
    )
    .await;
    let ids: Vec<Avro> = e.iter().map(|(_, k, _)| field(k, "id").clone()).collect();
    let expected: Vec<Avro> = (0..80).chain([100]).map(Avro::Int).collect();
    if ids != expected {
        // Where each event came from in the binlog, to tell a re-read from a re-send.
        let from = sources(&bootstrap, &registry, &topic, e.len()).await;
        let from: Vec<String> = from
            .iter()
            .map(|s| {
                let f = |n: &str| format!("{:?}", plain(field(s, n)));
                format!("pos {} row {} gtid {}", f("pos"), f("row"), f("gtid"))
            })
            .collect();
        panic!(
            "every change once, in order, across the restart:\n got ids {ids:?}\n from {from:#?}"
        );
    }
    assert_eq!(
        plain(field(&e[80].2, "note")),
        Avro::String("n".into()),
        "the new column is in the new schema"
    );
    let (_, versions) = Http::new(registry.clone())
        .get(&format!("/subjects/{topic}-value/versions"))
        .await;
    assert_eq!(
        versions,
        serde_json::json!([1, 2]),
        "the ALTER made a second value schema version"
    );
    worker.shutdown().await;
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}

/// `snapshot.mode=no_data` starts at the server's current position; that position is stored
/// before any change, so changes made while the connector is down after starting, but before
/// its first change, are not skipped by a restart that would otherwise start from a new
/// "current" position.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_data_stores_its_start_position_before_the_first_change() {
    let prefix = "cdcnd";
    let Restartable {
        mut conn,
        db,
        kafka: _kafka,
        bootstrap,
        dir: _dir,
        props,
    } = restartable("cdc_nodata", prefix).await;
    conn.query_drop("INSERT INTO t VALUES (1, 1)")
        .await
        .expect("a row before the connector (not captured with no_data)");
    let worker = start_worker(
        &props,
        tributary_connectors::plugins(),
        vec![connector(&db, prefix, &[("snapshot.mode", "no_data")])],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    wait_for(
        "the start position in the connector's offsets",
        Duration::from_secs(30),
        || async {
            let (_, o) = api.get(&format!("/connectors/{prefix}/offsets")).await;
            o["offsets"][0]["offset"]["pos"].as_u64().map(|_| ())
        },
    )
    .await;
    worker.shutdown().await;

    conn.query_drop("INSERT INTO t VALUES (2, 2)")
        .await
        .expect("a change while the connector is down");
    let worker = start_worker(&props, tributary_connectors::plugins(), vec![]).await;
    let registry = worker.registry_url.clone().expect("registry");
    let topic = format!("{prefix}.{db}.t");
    let e = wait_for(
        "the change made while the connector was down",
        Duration::from_secs(60),
        || async {
            let e = events(&bootstrap, &registry, &topic, 1).await;
            (!e.is_empty()).then_some(e)
        },
    )
    .await;
    let ids: Vec<Avro> = e.iter().map(|(_, k, _)| field(k, "id").clone()).collect();
    assert_eq!(
        ids,
        vec![Avro::Int(2)],
        "exactly the change after the start"
    );
    worker.shutdown().await;
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}

/// (the statement's first two words up to any `=`, `source.snapshot`) of every record of a
/// schema-change topic: the sequence, without the texts that depend on the server's settings.
async fn schema_changes(
    bootstrap: &str,
    registry: &str,
    topic: &str,
    expected: usize,
) -> Vec<(String, String)> {
    let (b, t) = (bootstrap.to_owned(), topic.to_owned());
    let records =
        tokio::task::spawn_blocking(move || consume_all(&b, &t, expected, Duration::from_secs(60)))
            .await
            .expect("consume");
    let decoder = AvroDecoder::new(SrSettings::new(registry.to_owned()));
    let text = |v: &Avro| match plain(v) {
        Avro::String(s) => s,
        other => format!("{other:?}"),
    };
    let mut out = Vec::new();
    for (_, _, _, value) in records {
        let v = decoder
            .decode(value.as_deref())
            .await
            .expect("value decodes")
            .value;
        let ddl = text(field(&v, "ddl"));
        let two_words = ddl.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let statement = two_words.split('=').next().unwrap_or_default().to_owned();
        out.push((statement, text(field(field(&v, "source"), "snapshot"))));
    }
    out
}

/// With `snapshot.mode=no_data` the schema snapshot's records store an offset that says it is
/// unfinished, but the last: a task that starts from one of those (a crash between them) takes
/// the schema snapshot again from the current position, as Debezium does, while one that
/// starts after it streams on. `store.only.captured.databases.ddl` keeps the records to this
/// test's database (the shared server holds other tests' databases).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_data_takes_an_unfinished_schema_snapshot_again() {
    let prefix = "cdcnds";
    let Restartable {
        mut conn,
        db,
        kafka: _kafka,
        bootstrap,
        dir: _dir,
        props,
    } = restartable("cdc_nodata_schema", prefix).await;
    let worker = start_worker(
        &props,
        tributary_connectors::plugins(),
        vec![connector(
            &db,
            prefix,
            &[
                ("snapshot.mode", "no_data"),
                (
                    "schema.history.internal.store.only.captured.databases.ddl",
                    "true",
                ),
            ],
        )],
    )
    .await;
    let registry = worker.registry_url.clone().expect("registry");
    let api = Http::new(format!("http://{}", worker.rest_addr));
    // SET …, DROP TABLE t, then DROP DATABASE, CREATE DATABASE, USE and CREATE TABLE t; the
    // last one marked `last`.
    let statements = [
        "SET character_set_server",
        "DROP TABLE",
        "DROP DATABASE",
        "CREATE DATABASE",
        &format!("USE `{db}`"),
        "CREATE TABLE",
    ];
    let one_snapshot: Vec<(String, String)> = statements
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let marker = if i + 1 == statements.len() {
                "last"
            } else {
                "true"
            };
            ((*d).to_owned(), marker.to_owned())
        })
        .collect();
    let first = schema_changes(&bootstrap, &registry, prefix, one_snapshot.len()).await;
    assert_eq!(first, one_snapshot, "the schema snapshot's records");
    let finished = wait_for(
        "the finished schema snapshot's offset",
        Duration::from_secs(30),
        || async {
            let (_, o) = api.get(&format!("/connectors/{prefix}/offsets")).await;
            let offset = o["offsets"][0]["offset"].clone();
            (offset["pos"].is_u64() && offset.get("snapshot").is_none()).then_some(offset)
        },
    )
    .await;

    // Restarted from the finished offset: no new schema snapshot, streaming goes on.
    assert_eq!(
        api.call("PUT", &format!("/connectors/{prefix}/stop"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        api.call("PUT", &format!("/connectors/{prefix}/resume"), None)
            .await
            .0,
        202
    );
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    conn.query_drop("INSERT INTO t VALUES (1, 1)")
        .await
        .expect("insert");
    let topic = format!("{prefix}.{db}.t");
    let e = events(&bootstrap, &registry, &topic, 1).await;
    assert_eq!(ops(&e), ["c"], "the insert after the restart");
    // A new schema snapshot would have come before the insert.
    assert_eq!(
        schema_changes(&bootstrap, &registry, prefix, one_snapshot.len()).await,
        one_snapshot,
        "no schema snapshot after a finished one"
    );

    // Stopped as if between two of its records: the offset they store.
    assert_eq!(
        api.call("PUT", &format!("/connectors/{prefix}/stop"), None)
            .await
            .0,
        204
    );
    let mut unfinished = finished.clone();
    unfinished["snapshot"] = serde_json::json!(true);
    let (code, body) = api
        .call(
            "PATCH",
            &format!("/connectors/{prefix}/offsets"),
            Some(serde_json::json!({"offsets": [{"partition": {"server": prefix}, "offset": unfinished}]})),
        )
        .await;
    assert_eq!(code, 200, "offsets altered: {body}");
    assert_eq!(
        api.call("PUT", &format!("/connectors/{prefix}/resume"), None)
            .await
            .0,
        202
    );
    let twice: Vec<(String, String)> = one_snapshot.iter().chain(&one_snapshot).cloned().collect();
    assert_eq!(
        schema_changes(&bootstrap, &registry, prefix, twice.len()).await,
        twice,
        "the schema snapshot taken again"
    );
    conn.query_drop("INSERT INTO t VALUES (2, 2)")
        .await
        .expect("insert");
    let e = events(&bootstrap, &registry, &topic, 2).await;
    let ids: Vec<Avro> = e.iter().map(|(_, k, _)| field(k, "id").clone()).collect();
    assert_eq!(
        ids,
        vec![Avro::Int(1), Avro::Int(2)],
        "streaming from the new schema snapshot's position, the first insert not again"
    );
    worker.shutdown().await;
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}

/// The latest state per key in a topic of JSON (schemaless) change events: id → `after.v`, or
/// absent when the last event deleted it.
fn final_state(bootstrap: &str, topic: &str) -> (usize, BTreeMap<i64, i64>) {
    let records = support::consume_until_idle(
        bootstrap,
        topic,
        Duration::from_secs(2),
        Duration::from_secs(300),
    );
    let mut state = BTreeMap::new();
    for (_, _, key, value) in &records {
        apply_change(&mut state, key.as_deref(), value.as_deref());
    }
    (records.len(), state)
}

/// Applies one JSON change event (or tombstone) of table `t` to `state`: id → `after.v`, the
/// id removed by a delete or a tombstone. Returns the key and the event's `op` (`None` for a
/// tombstone); records without a key are skipped.
fn apply_change(
    state: &mut BTreeMap<i64, i64>,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Option<(i64, Option<String>)> {
    let id = serde_json::from_slice::<KeyId>(key?).expect("JSON key").id;
    let Some(value) = value else {
        state.remove(&id);
        return Some((id, None));
    };
    let change: Change = serde_json::from_slice(value).expect("JSON change event");
    match (change.op.as_str(), change.after) {
        ("d", _) => {
            state.remove(&id);
        }
        (_, Some(after)) => {
            state.insert(id, after.v);
        }
        (op, None) => panic!("a change with op {op} and no after image"),
    }
    Some((id, Some(change.op)))
}

/// The parts of a key and change event that [`apply_change`] reads (typed: the 2M-record topic
/// is parsed in a debug build).
#[derive(serde::Deserialize)]
struct KeyId {
    id: i64,
}

#[derive(serde::Deserialize)]
struct Change {
    op: String,
    after: Option<AfterV>,
}

#[derive(serde::Deserialize)]
struct AfterV {
    v: i64,
}

/// How a topic's state differs from the table's, ten keys of each kind at most.
fn differences(expected: &BTreeMap<i64, i64>, state: &BTreeMap<i64, i64>) -> String {
    let missing: Vec<_> = expected
        .iter()
        .filter(|(k, _)| !state.contains_key(k))
        .take(10)
        .collect();
    let extra: Vec<_> = state
        .iter()
        .filter(|(k, _)| !expected.contains_key(k))
        .take(10)
        .collect();
    let wrong: Vec<_> = expected
        .iter()
        .filter(|(k, v)| state.get(k).is_some_and(|s| s != *v))
        .take(10)
        .collect();
    format!("missing {missing:?}, extra {extra:?}, wrong values {wrong:?}")
}

async fn table_state(conn: &mut mysql_async::Conn, table: &str) -> BTreeMap<i64, i64> {
    let rows: Vec<(i64, i64)> = conn
        .query(format!("SELECT id, v FROM {table} ORDER BY id"))
        .await
        .expect("select");
    rows.into_iter().collect()
}

/// Waits until the topic's final state equals `expected`, or fails showing how they differ.
async fn assert_converges(
    bootstrap: &str,
    topic: &str,
    expected: &BTreeMap<i64, i64>,
    timeout: Duration,
    log: &dyn Fn() -> String,
) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let (b, t) = (bootstrap.to_owned(), topic.to_owned());
        let (records, state) = tokio::task::spawn_blocking(move || final_state(&b, &t))
            .await
            .expect("consume");
        if &state == expected {
            return;
        }
        if std::time::Instant::now() >= deadline {
            let (b, t) = (bootstrap.to_owned(), topic.to_owned());
            let watermarks = tokio::task::spawn_blocking(move || {
                use rdkafka::consumer::Consumer;
                let c: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
                    .set("bootstrap.servers", &b)
                    .create()
                    .expect("consumer");
                c.fetch_watermarks(&t, 0, Duration::from_secs(5))
            })
            .await
            .expect("watermarks");
            panic!(
                "after {timeout:?} the topic (watermarks {watermarks:?}, {records} records read, {} keys) still differs from the table ({} rows): \
                 {}\nworker log:\n{}",
                state.len(),
                expected.len(),
                differences(expected, &state),
                log()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn spawn_worker(
    dir: &std::path::Path,
    bootstrap: &str,
    port: u16,
    connector: &ConfigMap,
) -> support::Process {
    let worker = dir.join("worker.properties");
    support::write_properties(
        &worker,
        &map(&[
            ("bootstrap.servers", bootstrap),
            ("listeners", &format!("http://127.0.0.1:{port}")),
            (
                "offset.storage.file.filename",
                &dir.join("connect.offsets").display().to_string(),
            ),
            ("offset.flush.interval.ms", "50"),
            ("schema.registry.storage", "memory"),
            ("key.converter.schemas.enable", "false"),
            ("value.converter.schemas.enable", "false"),
        ]),
    );
    let conn_file = dir.join("mysql.properties");
    support::write_properties(&conn_file, connector);
    support::Process::spawn(
        &[
            "standalone",
            &worker.display().to_string(),
            &conn_file.display().to_string(),
        ],
        dir.join(format!("worker-{}.log", support::uniq())),
    )
}

fn json_connector(db: &str, prefix: &str, extra: &[(&str, &str)]) -> ConfigMap {
    let mut c = connector(db, prefix, extra);
    c.remove("key.converter");
    c.remove("value.converter");
    c
}

/// Inserts and updates rows of `t` from a second task until told to stop; returns how many
/// statements ran.
fn writer(db: String, stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut conn = admin().await;
        conn.query_drop(format!("USE {db}")).await.expect("use");
        let mut n: u64 = 0;
        while !*stop.borrow() {
            let id = (n % 500) as i64;
            conn.exec_drop(
                "INSERT INTO t (id, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)",
                (id, n as i64),
            )
            .await
            .expect("write");
            if n % 7 == 3 {
                conn.exec_drop("DELETE FROM t WHERE id = ?", ((n % 11) as i64,))
                    .await
                    .expect("delete");
            }
            n += 1;
            if n.is_multiple_of(50) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        n
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_streaming_loses_nothing() {
    let (mut conn, db) = database("cdc_kill").await;
    conn.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, v BIGINT)")
        .await
        .expect("table");
    let kafka = kafka();
    let prefix = "cdckill";
    topics(&kafka, prefix, &db, &["t"]);
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = support::free_port();
    let config = json_connector(&db, prefix, &[]);
    let topic = format!("{prefix}.{db}.t");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let writes = writer(db.clone(), stop_rx);

    let mut first = spawn_worker(dir.path(), &bootstrap, port, &config);
    tokio::time::sleep(Duration::from_secs(3)).await;
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = spawn_worker(dir.path(), &bootstrap, port, &config);
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_tx.send(true).expect("stop writer");
    let statements = writes.await.expect("writer");
    assert!(
        statements > 100,
        "the writer made changes during the test ({statements})"
    );
    let expected = table_state(&mut conn, "t").await;
    assert_converges(
        &bootstrap,
        &topic,
        &expected,
        Duration::from_secs(90),
        &|| second.log_text(),
    )
    .await;
    drop(second);
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}

/// A fresh database whose table `t` holds `rows` rows (`v = id`), and a mock cluster with the
/// connector's schema-change topic and `partitions` partitions for `t`'s topic (returned).
async fn snapshot_fixture(
    label: &str,
    prefix: &str,
    rows: i64,
    partitions: i32,
) -> (mysql_async::Conn, String, Kafka, String) {
    let (mut conn, db) = database(label).await;
    conn.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, v BIGINT)")
        .await
        .expect("table");
    conn.query_drop(format!(
        "INSERT INTO t (id, v) SELECT seq, seq FROM seq_1_to_{rows}"
    ))
    .await
    .expect("rows");
    let kafka = kafka();
    kafka
        .create_topic(prefix, 1, 1)
        .expect("schema change topic");
    let topic = format!("{prefix}.{db}.t");
    kafka
        .create_topic(&topic, partitions, 1)
        .expect("table topic");
    (conn, db, kafka, topic)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_the_snapshot_resumes_from_the_last_chunk() {
    let prefix = "cdcsnap";
    // Eight partitions keep each under the mock cluster's 5 MB per partition.
    let (mut conn, db, kafka, topic) = snapshot_fixture("cdc_snapkill", prefix, 40_000, 8).await;
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let port = support::free_port();
    let config = json_connector(
        &db,
        prefix,
        &[
            ("snapshot.fetch.size", "1000"),
            ("snapshot.max.threads", "1"),
        ],
    );

    let mut first = spawn_worker(dir.path(), &bootstrap, port, &config);
    let table = format!("{db}.t");
    wait_for_offsets(
        "the snapshot to store the progress of a chunk",
        Duration::from_secs(60),
        |o| o.contains("snapshot_last_keys") && o.contains(&table),
        &|| std::fs::read_to_string(dir.path().join("connect.offsets")).unwrap_or_default(),
        &|| first.log_text(),
    )
    .await;
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10));
    let stored = std::fs::read_to_string(dir.path().join("connect.offsets")).unwrap_or_default();
    assert!(
        stored.contains("\"snapshot\": true"),
        "killed while the snapshot was under way: {stored}"
    );
    // Changes while the connector is down, during what is left of the snapshot.
    conn.query_drop("UPDATE t SET v = -v WHERE id % 100 = 0")
        .await
        .expect("update");
    conn.query_drop("DELETE FROM t WHERE id > 39990")
        .await
        .expect("delete");
    let second = spawn_worker(dir.path(), &bootstrap, port, &config);
    let expected = table_state(&mut conn, "t").await;
    assert_converges(
        &bootstrap,
        &topic,
        &expected,
        Duration::from_secs(120),
        &|| second.log_text(),
    )
    .await;
    let (records, _) = final_state(&bootstrap, &topic);
    assert!(
        records < 2 * 40_000,
        "the snapshot resumed after its last chunk instead of starting over ({records} records)"
    );
    drop(second);
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_reestablished_and_streaming_goes_on() {
    let (mut conn, db) = database("cdc_reconnect").await;
    conn.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .expect("table");
    let kafka = kafka();
    let prefix = "cdcre";
    topics(&kafka, prefix, &db, &["t"]);
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = start_worker(
        &worker_props(&bootstrap, dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![connector(&db, prefix, &[])],
    )
    .await;
    let registry = worker.registry_url.clone().expect("registry");
    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    let topic = format!("{prefix}.{db}.t");
    conn.query_drop("INSERT INTO t VALUES (1, 1)")
        .await
        .expect("insert");
    wait_for("the first insert", Duration::from_secs(30), || async {
        (!events(&bootstrap, &registry, &topic, 1).await.is_empty()).then_some(())
    })
    .await;

    // Cut every binlog dump connection, as a server restart or a network fault would.
    let dumps: Vec<u64> = conn
        .query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")
        .await
        .expect("processlist");
    assert!(
        !dumps.is_empty(),
        "the connector reads the binlog as a replica"
    );
    for id in dumps {
        let _ = conn.query_drop(format!("KILL {id}")).await;
    }
    conn.query_drop("INSERT INTO t VALUES (2, 2)")
        .await
        .expect("insert after the cut");
    let e = wait_for(
        "the insert made after the connection was cut",
        Duration::from_secs(60),
        || async {
            let e = events(&bootstrap, &registry, &topic, 2).await;
            (e.len() >= 2).then_some(e)
        },
    )
    .await;
    // The first row may be read by the snapshot or streamed, depending on timing.
    let ids: Vec<Avro> = e.iter().map(|(_, k, _)| field(k, "id").clone()).collect();
    assert_eq!(
        ids,
        [Avro::Int(1), Avro::Int(2)],
        "nothing lost, nothing repeated"
    );
    assert_eq!(e[1].0, "c");
    let (_, status) = api.get(&format!("/connectors/{prefix}/status")).await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    worker.shutdown().await;
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}

/// A private MariaDB for a test that must purge binlogs (the shared one serves other tests).
struct PrivateMariaDb {
    name: &'static str,
    port: u16,
}

impl PrivateMariaDb {
    fn start(name: &'static str, port: u16) -> PrivateMariaDb {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/mariadb.sh");
        let status = std::process::Command::new(script)
            .args(["start", name, &port.to_string()])
            .status()
            .expect("scripts/mariadb.sh");
        assert!(
            status.success(),
            "scripts/mariadb.sh start {name} {port} failed"
        );
        PrivateMariaDb { name, port }
    }
}

impl Drop for PrivateMariaDb {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/mariadb.sh");
        let _ = std::process::Command::new(script)
            .args(["stop", self.name, &self.port.to_string()])
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_binlog_fails_the_task_naming_the_file_or_resnapshots_when_needed() {
    let server = PrivateMariaDb::start("purge", 3337);
    let url = format!("mysql://root@127.0.0.1:{}", server.port);
    let mut conn = mysql_async::Conn::from_url(url.clone())
        .await
        .expect("private MariaDB");
    conn.query_drop("DROP DATABASE IF EXISTS purged; CREATE DATABASE purged; CREATE TABLE purged.t (id INT PRIMARY KEY)").await.expect("setup");
    conn.query_drop("INSERT INTO purged.t VALUES (1)")
        .await
        .expect("row");
    let kafka = kafka();
    let prefix = "cdcpurge";
    topics(&kafka, prefix, "purged", &["t"]);
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let props = worker_props(&bootstrap, dir.path(), &[]);
    let mut config = connector("purged", prefix, &[]);
    config.insert("database.port".into(), server.port.to_string());
    let worker = start_worker(
        &props,
        tributary_connectors::plugins(),
        vec![config.clone()],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    conn.query_drop("INSERT INTO purged.t VALUES (2)")
        .await
        .expect("row");
    let stored = wait_for("a streaming offset", Duration::from_secs(30), || async {
        let o = std::fs::read_to_string(dir.path().join("connect.offsets")).unwrap_or_default();
        (o.contains("\"file\"") && !o.contains("\"snapshot\": true")).then_some(o)
    })
    .await;
    worker.shutdown().await;
    // The server keeps files a replica still reads: wait until our dump connection is gone.
    wait_for("the connector's binlog connection to close", Duration::from_secs(30), || {
        let url = url.clone();
        async move {
            let mut c = mysql_async::Conn::from_url(url).await.ok()?;
            let n: Option<u64> = c.query_first("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'").await.ok()?;
            (n == Some(0)).then_some(())
        }
    })
    .await;
    let (current, _): (String, u64) = {
        conn.query_drop("FLUSH BINARY LOGS").await.expect("flush");
        conn.query_drop("FLUSH BINARY LOGS").await.expect("flush");
        let row: mysql_async::Row = conn
            .query_first("SHOW MASTER STATUS")
            .await
            .expect("status")
            .expect("binlog on");
        (row.get(0).expect("file"), row.get(1).expect("pos"))
    };
    conn.query_drop(format!("PURGE BINARY LOGS TO '{current}'"))
        .await
        .expect("purge");
    let stored: serde_json::Value = serde_json::from_str(&stored).expect("offset JSON");
    let lost_file = stored[0]["offset"]["file"]
        .as_str()
        .expect("stored file")
        .to_owned();

    let worker = start_worker(&props, tributary_connectors::plugins(), vec![]).await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let failed = wait_for(
        "the task to fail on the purged binlog",
        Duration::from_secs(30),
        || async {
            let (_, s) = api.get(&format!("/connectors/{prefix}/status")).await;
            (s["tasks"][0]["state"] == "FAILED").then_some(s)
        },
    )
    .await;
    let trace = failed["tasks"][0]["trace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        trace.contains(&lost_file) && trace.contains("no longer on the server"),
        "{trace}"
    );

    // With when_needed, the connector takes a new snapshot instead.
    let mut when_needed = config.clone();
    when_needed.insert("snapshot.mode".into(), "when_needed".into());
    let (code, _) = api
        .call(
            "PUT",
            &format!("/connectors/{prefix}/config"),
            Some(serde_json::to_value(&when_needed).expect("json")),
        )
        .await;
    assert_eq!(code, 200);
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    let registry = worker.registry_url.clone().expect("registry");
    let topic = format!("{prefix}.purged.t");
    let e = wait_for("the new snapshot", Duration::from_secs(30), || async {
        let e = events(&bootstrap, &registry, &topic, 4).await;
        (e.iter().filter(|(op, _, _)| op == "r").count() >= 3).then_some(e)
    })
    .await;
    let last_two: Vec<(&str, Avro)> = e[e.len() - 2..]
        .iter()
        .map(|(op, k, _)| (op.as_str(), field(k, "id").clone()))
        .collect();
    assert_eq!(
        last_two,
        [("r", Avro::Int(1)), ("r", Avro::Int(2))],
        "the new snapshot read the whole table"
    );
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_advance_the_offset_while_captured_tables_are_idle() {
    let (mut conn, db) = database("cdc_hb").await;
    conn.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .expect("table");
    let (mut other, other_db) = database("cdc_hb_other").await;
    other
        .query_drop("CREATE TABLE busy (id INT PRIMARY KEY)")
        .await
        .expect("table");
    let kafka = kafka();
    let prefix = "cdchb";
    topics(&kafka, prefix, &db, &["t"]);
    kafka
        .create_topic(&format!("__debezium-heartbeat.{prefix}"), 1, 1)
        .expect("heartbeat topic");
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = start_worker(
        &worker_props(&bootstrap, dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![connector(&db, prefix, &[("heartbeat.interval.ms", "200")])],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    let offset_before = wait_for("a first stored offset", Duration::from_secs(30), || async {
        let (_, o) = api.get(&format!("/connectors/{prefix}/offsets")).await;
        o["offsets"][0]["offset"]["pos"].as_u64()
    })
    .await;
    for i in 0..20 {
        other
            .exec_drop("INSERT INTO busy VALUES (?)", (i,))
            .await
            .expect("insert elsewhere");
    }
    wait_for(
        "the stored offset to move past the uncaptured changes",
        Duration::from_secs(30),
        || async {
            let (_, o) = api.get(&format!("/connectors/{prefix}/offsets")).await;
            o["offsets"][0]["offset"]["pos"]
                .as_u64()
                .filter(|p| *p > offset_before)
        },
    )
    .await;
    let (b, t) = (bootstrap.clone(), format!("__debezium-heartbeat.{prefix}"));
    let beats =
        tokio::task::spawn_blocking(move || consume_all(&b, &t, 1, Duration::from_secs(10)))
            .await
            .expect("consume");
    assert!(
        !beats.is_empty(),
        "heartbeats went to __debezium-heartbeat.{prefix}"
    );
    worker.shutdown().await;
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
    other
        .query_drop(format!("DROP DATABASE {other_db}"))
        .await
        .expect("cleanup");
}

/// Latest state per key of a large topic of JSON change events, folded as records arrive (the
/// whole topic is never held in memory), and how many snapshot (`op: r`) records each key got.
struct TopicFold {
    consumer: rdkafka::consumer::BaseConsumer,
    state: BTreeMap<i64, i64>,
    snapshot_reads: BTreeMap<i64, u32>,
    records: u64,
}

impl TopicFold {
    fn new(bootstrap: &str, topic: &str, partitions: i32) -> TopicFold {
        use rdkafka::consumer::Consumer;
        let consumer: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", format!("test-fold-{}", support::uniq()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut assignment = rdkafka::TopicPartitionList::new();
        for p in 0..partitions {
            assignment
                .add_partition_offset(topic, p, rdkafka::Offset::Beginning)
                .expect("partition");
        }
        consumer.assign(&assignment).expect("assign");
        TopicFold {
            consumer,
            state: BTreeMap::new(),
            snapshot_reads: BTreeMap::new(),
            records: 0,
        }
    }

    /// Folds records until none came for `idle`.
    fn read_until_idle(&mut self, idle: Duration) {
        use rdkafka::Message;
        let mut last = std::time::Instant::now();
        while last.elapsed() < idle {
            let Some(m) = self.consumer.poll(Duration::from_millis(100)) else {
                continue;
            };
            let m = m.expect("consume");
            last = std::time::Instant::now();
            self.records += 1;
            if let Some((id, Some(op))) = apply_change(&mut self.state, m.key(), m.payload()) {
                if op == "r" {
                    *self.snapshot_reads.entry(id).or_default() += 1;
                }
            }
        }
    }
}

/// Keeps changing rows all over `t` (updates of existing keys, inserts above `rows`, deletes)
/// until told to stop; returns how many statements ran.
fn scattered_writer(
    db: String,
    rows: i64,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut conn = admin().await;
        conn.query_drop(format!("USE {db}")).await.expect("use");
        let mut n: i64 = 0;
        // A multiplicative hash walks the key range in a scattered but reproducible order.
        let scattered = |i: i64| 1 + (i.wrapping_mul(2_654_435_761) & i64::MAX) % rows;
        while !*stop.borrow() {
            let ids: Vec<String> = (0..5).map(|i| scattered(n * 5 + i).to_string()).collect();
            conn.query_drop(format!(
                "UPDATE t SET v = v + 1 WHERE id IN ({})",
                ids.join(",")
            ))
            .await
            .expect("update");
            conn.exec_drop("INSERT INTO t (id, v) VALUES (?, ?)", (rows + 1 + n, n))
                .await
                .expect("insert");
            conn.exec_drop("DELETE FROM t WHERE id = ?", (scattered(n * 7 + 3),))
                .await
                .expect("delete");
            n += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        n as u64 * 3
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_million_row_snapshot_taken_while_writes_continue_ends_equal_to_the_table() {
    const ROWS: i64 = 2_000_000;
    // The mock cluster keeps about 5 MB and 100,000 records per partition: ~450-byte JSON
    // events of 2M+ keys need hundreds of partitions to stay whole.
    const PARTITIONS: i32 = 512;
    let prefix = "cdcbig";
    let (mut conn, db, kafka, topic) = snapshot_fixture("cdc_big", prefix, ROWS, PARTITIONS).await;
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = json_connector(&db, prefix, &[("snapshot.max.threads", "2")]);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let writes = scattered_writer(db.clone(), ROWS, stop_rx);
    let worker = spawn_worker(dir.path(), &bootstrap, support::free_port(), &config);
    let offsets = dir.path().join("connect.offsets");
    let stored = || std::fs::read_to_string(&offsets).unwrap_or_default();
    let log = || worker.log_text();
    wait_for_offsets(
        "the snapshot to store its first progress",
        Duration::from_secs(120),
        |o| o.contains("\"snapshot\": true"),
        &stored,
        &log,
    )
    .await;
    wait_for_offsets(
        "the snapshot of 2M rows to finish (an offset without snapshot progress)",
        Duration::from_secs(900),
        |o| !o.is_empty() && !o.contains("\"snapshot\": true"),
        &stored,
        &log,
    )
    .await;
    stop_tx.send(true).expect("stop writer");
    let statements = writes.await.expect("writer");
    assert!(
        statements > 300,
        "the writer kept changing rows while the snapshot ran ({statements} statements)"
    );
    let expected = table_state(&mut conn, "t").await;

    let (b, t) = (bootstrap.clone(), topic.clone());
    let fold = tokio::task::spawn_blocking(move || {
        let mut fold = TopicFold::new(&b, &t, PARTITIONS);
        let deadline = std::time::Instant::now() + Duration::from_secs(600);
        loop {
            fold.read_until_idle(Duration::from_secs(3));
            if fold.state == expected || std::time::Instant::now() >= deadline {
                return (fold, expected);
            }
        }
    });
    let (fold, expected) = fold.await.expect("fold");
    let twice: Vec<_> = fold
        .snapshot_reads
        .iter()
        .filter(|(_, n)| **n > 1)
        .take(10)
        .collect();
    assert!(
        twice.is_empty(),
        "keys the snapshot read more than once: {twice:?}"
    );
    assert!(
        fold.state == expected,
        "the topic ({} records, {} keys) differs from the table ({} rows): {}\nworker log:\n{}",
        fold.records,
        fold.state.len(),
        expected.len(),
        differences(&expected, &fold.state),
        log()
    );
    drop(worker);
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}

/// Waits until the worker's offsets file satisfies `done`, or fails naming what it waited for.
async fn wait_for_offsets(
    what: &str,
    timeout: Duration,
    done: impl Fn(&str) -> bool,
    stored: &dyn Fn() -> String,
    log: &dyn Fn() -> String,
) {
    let deadline = std::time::Instant::now() + timeout;
    while !done(&stored()) {
        assert!(
            std::time::Instant::now() < deadline,
            "waited {timeout:?} for {what}; offsets: {}\nworker log:\n{}",
            stored(),
            log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Debezium's per-column rules and connection settings: `column.truncate.to.N.chars` cuts
/// string values of the row (snapshot and binlog), `column.mask.with.N.chars` replaces them,
/// and `database.initial.statements` runs on the connector's query connections (a failing one
/// fails the task, naming the key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_rules_and_initial_statements_apply() {
    let prefix = "cdcrules";
    let (mut conn, db) = database("cdc_rules").await;
    conn.query_drop(
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), secret VARCHAR(20)); \
         INSERT INTO t VALUES (1, 'abcdefgh', 'pw1')",
    )
    .await
    .expect("table");
    let kafka = kafka();
    topics(&kafka, prefix, &db, &["t"]);
    let bootstrap = kafka.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let name_column = format!("{db}.t.name");
    let secret_column = format!("{db}.t.secret");
    let rules = json_connector(
        &db,
        prefix,
        &[
            ("column.truncate.to.3.chars", &name_column),
            ("column.mask.with.4.chars", &secret_column),
            (
                "database.initial.statements",
                "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES');SET @tributary = 1",
            ),
        ],
    );
    let mut failing = json_connector(
        &db,
        "cdcbadinit",
        &[("database.initial.statements", "SELECT * FROM no_such_table")],
    );
    failing.insert("name".into(), "badinit".into());
    let worker = start_worker(
        &worker_props(&bootstrap, dir.path(), &[]),
        tributary_connectors::plugins(),
        vec![rules, failing],
    )
    .await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let trace = wait_for(
        "the task with a failing initial statement to fail",
        Duration::from_secs(30),
        || async {
            let (_, s) = api.get("/connectors/badinit/status").await;
            (s["tasks"][0]["state"] == "FAILED").then(|| s["tasks"][0]["trace"].to_string())
        },
    )
    .await;
    assert!(
        trace.contains("database.initial.statements") && trace.contains("no_such_table"),
        "{trace}"
    );
    api.wait_state(prefix, "RUNNING", Duration::from_secs(30))
        .await;
    conn.query_drop("INSERT INTO t VALUES (2, 'xyzxyz', NULL), (3, 'é€ab', 's')")
        .await
        .expect("rows streamed");
    let topic = format!("{prefix}.{db}.t");
    let (b, t) = (bootstrap.clone(), topic.clone());
    let records =
        tokio::task::spawn_blocking(move || consume_all(&b, &t, 3, Duration::from_secs(60)))
            .await
            .expect("consume");
    let rows: Vec<(serde_json::Value, serde_json::Value)> = records
        .iter()
        .map(|(_, _, _, value)| {
            let v: serde_json::Value =
                serde_json::from_slice(value.as_deref().expect("a value")).expect("JSON");
            let after = &v["payload"]["after"];
            (after["name"].clone(), after["secret"].clone())
        })
        .collect();
    assert_eq!(
        rows,
        [
            (serde_json::json!("abc"), serde_json::json!("****")),
            (serde_json::json!("xyz"), serde_json::Value::Null),
            (serde_json::json!("é€a"), serde_json::json!("****")),
        ]
    );
    worker.shutdown().await;
    conn.query_drop(format!("DROP DATABASE {db}"))
        .await
        .expect("cleanup");
}
