//! README command 1: `tributary quickstart` runs a demo pipeline with no external services and
//! says where to look; the REST API and the registry answer while it runs, and SIGTERM stops it
//! cleanly.

mod support;

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};

use support::{free_port, wait_for, Http, Process};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_runs_a_pipeline_end_to_end_without_external_services() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let out_dir = dir.path().join("qs");
    let mut process = Process::spawn(
        &[
            "quickstart",
            "--dir",
            &out_dir.display().to_string(),
            "--port",
            &port.to_string(),
            "--rate",
            "200",
        ],
        dir.path().join("quickstart.log"),
    );
    let output = out_dir.join("customers.jsonl");
    let lines = wait_for(
        "the quickstart's sink to write 50 change events",
        Duration::from_secs(60),
        || async {
            let text = std::fs::read_to_string(&output).unwrap_or_default();
            (text.lines().count() >= 50).then_some(text)
        },
    )
    .await;
    let first: serde_json::Value =
        serde_json::from_str(lines.lines().next().expect("a line")).expect("JSON line");
    assert_eq!(first["op"], "c", "{first}");
    assert_eq!(first["source"]["connector"], "datagen");

    let api = Http::new(format!("http://127.0.0.1:{port}"));
    let (code, status) = api.get("/connectors?expand=status").await;
    assert_eq!(code, 200);
    assert_eq!(
        status["demo-source"]["status"]["tasks"][0]["state"], "RUNNING",
        "{status}"
    );
    assert_eq!(
        status["demo-sink"]["status"]["tasks"][0]["state"], "RUNNING",
        "{status}"
    );
    let (code, subjects) = api.get("/subjects").await;
    assert_eq!(code, 200);
    assert!(
        subjects
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s == "quickstart.demo.customers-value")),
        "{subjects}"
    );

    let log = process.log_text();
    assert!(
        log.contains(&output.display().to_string()),
        "it says where the output is:\n{log}"
    );
    assert!(
        log.contains("/connectors"),
        "it says how to query the REST API:\n{log}"
    );
    process.signal("TERM");
    assert_eq!(
        process.wait_exit(Duration::from_secs(30)),
        Some(0),
        "log:\n{}",
        process.log_text()
    );
}

/// A source posted to the quickstart worker gets the topics its `topic.creation.*` settings ask
/// for, although the in-process Kafka has no CreateTopics API and would auto-create every topic
/// with 4 partitions: the quickstart creates them through the in-process Kafka's own interface.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_added_to_the_quickstart_gets_the_partitions_it_asks_for() {
    use mysql_async::prelude::Queryable;

    let url = std::env::var("TRIBUTARY_TEST_MARIADB_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3317".into());
    let mut conn = mysql_async::Conn::from_url(url.as_str())
        .await
        .expect("the binlog MariaDB of scripts/mariadb.sh answers");
    let db = format!("qs_{}", support::uniq() % 1_000_000);
    conn.query_drop(format!(
        "CREATE DATABASE {db}; \
         CREATE TABLE {db}.orders (id INT PRIMARY KEY); INSERT INTO {db}.orders VALUES (1); \
         CREATE TABLE {db}.customers (id INT PRIMARY KEY); INSERT INTO {db}.customers VALUES (1)"
    ))
    .await
    .expect("tables");

    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let (process, bootstrap) =
        quickstart_with_kafka(dir.path(), &dir.path().join("qs"), port, &[]).await;
    let hostport = url
        .rsplit('@')
        .next()
        .unwrap_or("127.0.0.1:3317")
        .trim_end_matches('/');
    let (host, db_port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let prefix = format!("p{db}");
    let config = serde_json::json!({
        "connector.class": "mysql",
        "database.hostname": host,
        "database.port": db_port,
        "database.user": "root",
        "topic.prefix": prefix,
        "database.include.list": db,
        "topic.creation.default.partitions": "1",
        "topic.creation.default.replication.factor": "1",
        "topic.creation.groups": "wide",
        "topic.creation.wide.include": format!("{prefix}\\.{db}\\.orders"),
        "topic.creation.wide.partitions": "6",
    });
    let api = Http::new(format!("http://127.0.0.1:{port}"));
    let (code, body) = api
        .call(
            "POST",
            "/connectors",
            Some(serde_json::json!({"name": "cdc", "config": config})),
        )
        .await;
    assert_eq!(code, 201, "{body}");

    let expected = [
        (prefix.clone(), 1),
        (format!("{prefix}.{db}.customers"), 1),
        (format!("{prefix}.{db}.orders"), 6),
    ];
    let partitions = move || {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .expect("metadata client");
        let metadata = consumer
            .fetch_metadata(None, Duration::from_secs(10))
            .expect("the in-process Kafka answers within 10 s");
        let mut found: Vec<(String, usize)> = metadata
            .topics()
            .iter()
            .filter(|t| t.name().starts_with(&prefix))
            .map(|t| (t.name().to_owned(), t.partitions().len()))
            .collect();
        found.sort();
        found
    };
    let found = wait_for("the source's three topics", Duration::from_secs(60), || {
        let partitions = partitions.clone();
        async move {
            let found = tokio::task::spawn_blocking(partitions)
                .await
                .expect("metadata");
            (found.len() >= 3).then_some(found)
        }
    })
    .await;
    assert_eq!(found, expected, "log:\n{}", process.log_text());
    let _ = conn.query_drop(format!("DROP DATABASE {db}")).await;
}

/// The quickstart's in-process Kafka (librdkafka's mock cluster) keeps only the newest 5 MiB of
/// stored batches in each partition and drops older ones whether or not anyone read them. A
/// sink that starts after a bulk load (or falls that far behind one) must still get every
/// record: here 200,000 change events, more than the four partitions the in-process Kafka
/// gives a new topic hold as the producer sends them uncompressed, are all in the topic once
/// the source is done, and all reach a sink created afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_keeps_a_bulk_load_for_a_sink_that_starts_late() {
    const EVENTS: i64 = 200_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let out_dir = dir.path().join("qs");
    let (process, bootstrap) =
        quickstart_with_kafka(dir.path(), &out_dir, port, &["--rate", "1"]).await;
    let api = Http::new(format!("http://127.0.0.1:{port}"));
    let topic = "bulk.demo.customers";
    let (code, answer) = api
        .call(
            "POST",
            "/connectors",
            Some(serde_json::json!({"name": "bulk", "config": {
                "connector.class": "datagen",
                "topic.prefix": "bulk",
                "rate": "0",
                "max.records": EVENTS.to_string(),
                "keys": "100000",
                // One line in the sink's file per record.
                "tombstones.on.delete": "false",
            }})),
        )
        .await;
    assert_eq!(code, 201, "{answer}");

    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .expect("consumer");
    // (partition, low, high) of every partition of the topic.
    let watermarks = || -> Vec<(i32, i64, i64)> {
        let Ok(meta) = consumer.fetch_metadata(Some(topic), Duration::from_secs(5)) else {
            return Vec::new();
        };
        meta.topics()
            .iter()
            .flat_map(|t| t.partitions())
            .filter_map(|p| {
                let (low, high) = consumer
                    .fetch_watermarks(topic, p.id(), Duration::from_secs(5))
                    .ok()?;
                Some((p.id(), low, high))
            })
            .collect()
    };
    let marks = wait_for(
        &format!("the datagen source to write its {EVENTS} events to {topic}"),
        Duration::from_secs(180),
        || async {
            let marks = watermarks();
            (marks.iter().map(|(_, _, high)| high).sum::<i64>() >= EVENTS).then_some(marks)
        },
    )
    .await;
    assert!(
        marks.iter().all(|(_, low, _)| *low == 0),
        "the in-process Kafka dropped the oldest records of {topic} before any sink read them \
         (partition, first offset kept, end offset): {marks:?}"
    );

    let output = out_dir.join("bulk.jsonl");
    let (code, answer) = api
        .call(
            "POST",
            "/connectors",
            Some(serde_json::json!({"name": "bulk-sink", "config": {
                "connector.class": "FileStreamSink",
                "topics": topic,
                "file": output.display().to_string(),
            }})),
        )
        .await;
    assert_eq!(code, 201, "{answer}");
    let lines = || {
        std::fs::read(&output)
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    while lines() < EVENTS as usize {
        assert!(
            Instant::now() < deadline,
            "the sink wrote {} of {EVENTS} events in 300 s; {topic} (partition, first offset \
             kept, end offset): {:?}; log:\n{}",
            lines(),
            watermarks(),
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(lines(), EVENTS as usize, "no record is written twice");
}

/// A quickstart process (state in `out_dir`, log in `dir`) and its in-process Kafka's address,
/// once it has printed it.
async fn quickstart_with_kafka(
    dir: &std::path::Path,
    out_dir: &std::path::Path,
    port: u16,
    extra: &[&str],
) -> (Process, String) {
    let out = out_dir.display().to_string();
    let port = port.to_string();
    let mut args = vec!["quickstart", "--dir", &out, "--port", &port];
    args.extend_from_slice(extra);
    let process = Process::spawn(&args, dir.join("quickstart.log"));
    let bootstrap = wait_for(
        "the quickstart to print its Kafka's address",
        Duration::from_secs(60),
        || async {
            process.log_text().lines().find_map(|l| {
                l.trim()
                    .strip_prefix("in-process Kafka:")
                    .map(|a| a.trim().to_owned())
            })
        },
    )
    .await;
    (process, bootstrap)
}
