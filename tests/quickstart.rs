//! README command 1: `tributary quickstart` runs a demo pipeline with no external services and
//! says where to look; the REST API and the registry answer while it runs, and SIGTERM stops it
//! cleanly.

mod support;

use std::time::Duration;

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
    use rdkafka::consumer::{BaseConsumer, Consumer};

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
    let process = Process::spawn(
        &[
            "quickstart",
            "--dir",
            &dir.path().join("qs").display().to_string(),
            "--port",
            &port.to_string(),
        ],
        dir.path().join("quickstart.log"),
    );
    let bootstrap = wait_for(
        "the quickstart to say where its Kafka is",
        Duration::from_secs(30),
        || async {
            process.log_text().lines().find_map(|l| {
                l.trim()
                    .strip_prefix("in-process Kafka:")
                    .map(|b| b.trim().to_owned())
            })
        },
    )
    .await;
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
