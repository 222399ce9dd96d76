//! When records or the database go wrong: poison records go to the dead-letter topic with
//! Kafka Connect's error headers while the rest arrives (`errors.tolerance=all`); with `none`
//! the task fails and its status says why; a database that goes down is waited for, and
//! nothing is lost or skipped.

#[path = "support/jdbc.rs"]
mod jdbc_support;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use jdbc_support::{account, accounts_sink, Feed, Kind, TestDb};
use support::{consume_all_with_headers, kafka, start_plain_worker, wait_for, Http};
use tributary_runtime::data::{SchemaBuilder, Value};
use tributary_runtime::record::SchemaAndValue;

const WAIT: Duration = Duration::from_secs(30);

fn s(v: &str) -> Option<&str> {
    Some(v)
}

/// (offset, headers) of every record of a topic, read until `expected` came or 20 s passed.
fn dead_letters(
    bootstrap: &str,
    topic: &str,
    expected: usize,
) -> Vec<(i64, BTreeMap<String, String>)> {
    consume_all_with_headers(bootstrap, topic, expected, Duration::from_secs(20))
        .into_iter()
        .map(|((_, offset, _, _), headers)| {
            let headers = headers
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        String::from_utf8_lossy(&v.unwrap_or_default()).into_owned(),
                    )
                })
                .collect();
            (offset, headers)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_go_to_the_dead_letter_topic_with_headers_and_the_rest_arrives() {
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    for topic in ["accounts", "dlq"] {
        kafka.create_topic(topic, 1, 1).expect("topic");
    }
    let mut db = TestDb::new(Kind::MariaDb, "dlq").await;
    db.exec(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(5) NOT NULL, \
         balance INT NOT NULL CHECK (balance >= 0))",
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = accounts_sink(
        "accounts",
        &db.url,
        &[
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", "dlq"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ],
    );
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let feed = Feed::json(&bootstrap, true);
    let none = SchemaAndValue::null();
    feed.send("accounts", None, &none, &account(1, "ann", 10))
        .await; // 0
    feed.send("accounts", None, &none, &account(2, "waytoolong", 5))
        .await; // 1: too long
    feed.send("accounts", None, &none, &account(3, "cy", -1))
        .await; // 2: CHECK fails
    feed.send_raw("accounts", None, None, Some(b"{not json"))
        .await; // 3: cannot convert
    let text = SchemaAndValue::new(SchemaBuilder::string().build_ref(), Value::from("oops"));
    feed.send("accounts", None, &none, &text).await; // 4: not a row
    feed.send("accounts", None, &none, &account(4, "dee", 7))
        .await; // 5
    feed.send("accounts", None, &none, &account(1, "ann2", 11))
        .await; // 6

    db.wait_rows(
        "the good records",
        "SELECT id, name, balance FROM accounts ORDER BY id",
        &[&[s("1"), s("ann2"), s("11")], &[s("4"), s("dee"), s("7")]],
        WAIT,
    )
    .await;
    let letters = tokio::task::spawn_blocking(move || dead_letters(&bootstrap, "dlq", 4))
        .await
        .expect("reader");
    // Converter failures are reported while the batch is converted, before the sink sees it,
    // so dead letters come ordered by stage, then offset.
    let mut letters = letters;
    letters.sort_by_key(|(_, h)| {
        h.get("__connect.errors.offset")
            .cloned()
            .unwrap_or_default()
    });
    let offsets: Vec<String> = letters
        .iter()
        .map(|(_, h)| {
            h.get("__connect.errors.offset")
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        offsets,
        ["1", "2", "3", "4"],
        "one dead letter per poison record"
    );
    for (_, headers) in &letters {
        assert_eq!(
            headers.get("__connect.errors.topic").map(String::as_str),
            Some("accounts")
        );
        assert_eq!(
            headers
                .get("__connect.errors.partition")
                .map(String::as_str),
            Some("0")
        );
        assert_eq!(
            headers
                .get("__connect.errors.connector.name")
                .map(String::as_str),
            Some("accounts")
        );
        assert!(headers.contains_key("__connect.errors.exception.class.name"));
    }
    let message = |i: usize| {
        letters[i]
            .1
            .get("__connect.errors.exception.message")
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        message(0).contains("1406") && message(0).contains("name"),
        "{}",
        message(0)
    );
    assert!(
        message(1).contains("4025") || message(1).contains("CONSTRAINT"),
        "{}",
        message(1)
    );
    assert_eq!(
        letters[2]
            .1
            .get("__connect.errors.stage")
            .map(String::as_str),
        Some("VALUE_CONVERTER")
    );
    assert!(message(3).contains("must be a struct"), "{}", message(3));
    assert_eq!(
        letters[0]
            .1
            .get("__connect.errors.stage")
            .map(String::as_str),
        Some("TASK_PUT")
    );
    let api = Http::new(format!("http://{}", worker.rest_addr));
    api.wait_state("accounts", "RUNNING", WAIT).await;
    worker.shutdown().await;
    db.drop().await;
}

/// Waits for task 0 of `connector` to report FAILED; its trace.
async fn failed_task_trace(rest_addr: &str, connector: &str) -> String {
    let api = Http::new(format!("http://{rest_addr}"));
    let status = wait_for("the task to fail", WAIT, || async {
        let (_, s) = api.get(&format!("/connectors/{connector}/status")).await;
        (s["tasks"][0]["state"] == "FAILED").then_some(s)
    })
    .await;
    status["tasks"][0]["trace"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_errors_tolerance_none_a_poison_record_fails_the_task_with_the_reason() {
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    kafka.create_topic("accounts", 1, 1).expect("topic");
    let mut db = TestDb::new(Kind::Postgres, "fail").await;
    db.exec("CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(5) NOT NULL, balance INT NOT NULL)")
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = accounts_sink("strict", &db.url, &[]);
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let feed = Feed::json(&bootstrap, true);
    let none = SchemaAndValue::null();
    feed.send("accounts", None, &none, &account(1, "ann", 1))
        .await;
    db.wait_rows(
        "the first record",
        "SELECT id FROM accounts",
        &[&[s("1")]],
        WAIT,
    )
    .await;
    feed.send("accounts", None, &none, &account(2, "waytoolong", 2))
        .await;
    let trace = failed_task_trace(&worker.rest_addr.to_string(), "strict").await;
    assert!(
        trace.contains("accounts-0@1") && trace.contains("value too long"),
        "the status says which record and why: {trace}"
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM accounts").await.as_deref(),
        Some("1")
    );
    worker.shutdown().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_always_identity_key_is_refused_whichever_way_the_batch_is_written() {
    // An INSERT refuses values for a GENERATED ALWAYS identity column; a COPY would write
    // them. The sink must not succeed for batches of new keys (which it would copy straight
    // into the table) and fail for the others: the merge statement, prepared before any
    // direct COPY is tried, refuses such a table first.
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    kafka.create_topic("accounts", 1, 1).expect("topic");
    let mut db = TestDb::new(Kind::Postgres, "identity").await;
    db.exec(
        "CREATE TABLE accounts (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         name TEXT NOT NULL, balance INT NOT NULL)",
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = accounts_sink("identity", &db.url, &[("insert.mode", "insert")]);
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let feed = Feed::json(&bootstrap, true);
    let none = SchemaAndValue::null();
    feed.send("accounts", None, &none, &account(1, "ann", 1))
        .await;
    let trace = failed_task_trace(&worker.rest_addr.to_string(), "identity").await;
    assert!(
        trace.contains("GENERATED ALWAYS") || trace.contains("non-DEFAULT"),
        "the status says why: {trace}"
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM accounts").await.as_deref(),
        Some("0"),
        "nothing was copied past the identity column"
    );
    worker.shutdown().await;
    db.drop().await;
}

// ---------------------------------------------------------------------------------------
// A database outage, on a MariaDB of this test's own (others share the usual one).

const OUTAGE_PORT: &str = "3327";

fn mariadb_script(action: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mariadb.sh");
    let out = Command::new(script)
        .args([action, "jdbcsink", OUTAGE_PORT])
        .output()
        .expect("run scripts/mariadb.sh");
    assert!(
        out.status.success(),
        "scripts/mariadb.sh {action} jdbcsink {OUTAGE_PORT} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_waited_out_and_nothing_is_lost() {
    tokio::task::spawn_blocking(|| mariadb_script("start"))
        .await
        .expect("start MariaDB");
    let base = format!("mysql://root@127.0.0.1:{OUTAGE_PORT}");
    let mut db = TestDb::mariadb_at(&base, "outage").await;
    let kafka = kafka();
    let bootstrap = kafka.bootstrap_servers();
    kafka.create_topic("accounts", 1, 1).expect("topic");
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = accounts_sink(
        "outage",
        &db.url,
        &[
            ("auto.create", "true"),
            ("max.retries", "2"),
            ("retry.backoff.ms", "200"),
        ],
    );
    let worker = start_plain_worker(&bootstrap, dir.path(), vec![sink]).await;
    let api = Http::new(format!("http://{}", worker.rest_addr));
    let feed = Feed::json(&bootstrap, true);
    let none = SchemaAndValue::null();
    for id in 0..200 {
        feed.send("accounts", None, &none, &account(id, "a", id as i32))
            .await;
    }
    db.wait_rows(
        "the records sent before the outage",
        "SELECT COUNT(*), SUM(balance) FROM accounts",
        &[&[s("200"), s("19900")]],
        WAIT,
    )
    .await;

    tokio::task::spawn_blocking(|| mariadb_script("stop"))
        .await
        .expect("stop MariaDB");
    for id in 200..500 {
        feed.send("accounts", None, &none, &account(id, "b", id as i32))
            .await;
    }
    // Updates of rows written before the outage, in the same partition: applied in order.
    for id in 0..100 {
        feed.send("accounts", None, &none, &account(id, "c", 1000))
            .await;
    }
    let status = wait_for("the task to report that it is retrying", WAIT, || async {
        let (_, s) = api.get("/connectors/outage/status").await;
        let progress = s["tasks"][0]["progress"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        progress.contains("retrying").then_some(s)
    })
    .await;
    assert_eq!(
        status["tasks"][0]["state"], "RUNNING",
        "a database outage does not fail the task"
    );

    tokio::task::spawn_blocking(|| mariadb_script("start"))
        .await
        .expect("restart MariaDB");
    let mut db_after = TestDb::mariadb_at(&base, "outage_probe").await;
    let table = format!("`{}`.accounts", db.name);
    let expected_sum = (0..500).sum::<i64>() - (0..100).sum::<i64>() + 100 * 1000;
    db_after
        .wait_rows(
            "every record once the database is back",
            &format!("SELECT COUNT(*), SUM(balance), SUM(name = 'c') FROM {table}"),
            &[&[s("500"), Some(&expected_sum.to_string()), s("100")]],
            Duration::from_secs(60),
        )
        .await;
    let status = wait_for("the retry note to clear", WAIT, || async {
        let (_, s) = api.get("/connectors/outage/status").await;
        s["tasks"][0]["progress"].is_null().then_some(s)
    })
    .await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING");
    worker.shutdown().await;
    // The first admin connection died with the server.
    db_after
        .exec(&format!("DROP DATABASE IF EXISTS `{}`", db.name))
        .await;
    db_after.drop().await;
    tokio::task::spawn_blocking(|| mariadb_script("stop"))
        .await
        .expect("stop MariaDB");
}
